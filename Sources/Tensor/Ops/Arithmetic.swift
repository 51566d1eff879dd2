import Foundation

// MARK: - Binary operations on equal shapes

/// a + b.
public func add(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Check.sameShape("add", a, b)
    let y = elementwise(a, b) { Kernels.add($0, $1, into: $2, count: $3) }
    return Tensor.record(y, operation: "add", inputs: [a, b], rule: Derivatives.ofAdd)
}

/// a − b.
public func subtract(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Check.sameShape("subtract", a, b)
    let y = elementwise(a, b) { Kernels.subtract($0, $1, into: $2, count: $3) }
    return Tensor.record(y, operation: "subtract", inputs: [a, b], rule: Derivatives.ofSubtract)
}

/// a · b, elementwise.
public func multiply(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Check.sameShape("multiply", a, b)
    let y = elementwise(a, b) { Kernels.multiply($0, $1, into: $2, count: $3) }
    return Tensor.record(y, operation: "multiply", inputs: [a, b], rule: Derivatives.ofMultiply)
}

/// a / b, elementwise.
public func divide(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Check.sameShape("divide", a, b)
    let y = elementwise(a, b) { Kernels.divide($0, $1, into: $2, count: $3) }
    return Tensor.record(y, operation: "divide", inputs: [a, b], rule: Derivatives.ofDivide)
}

/// x / s for a one-element tensor s (spectral norm's W / σ).
public func divide(_ x: Tensor, byScalar s: Tensor) throws -> Tensor {
    try Check.scalar("divide(_:byScalar:)", s)
    let y = elementwise(x) { Kernels.affine($0, scale: 1 / s.pointer[0], shift: 0, into: $1, count: $2) }
    return Tensor.record(y, operation: "divideByScalar", inputs: [x, s], rule: Derivatives.ofDivideByScalar)
}

// MARK: - Operations with a constant

extension Tensor {
    /// c · self.
    public func scaled(by c: Float) -> Tensor {
        let y = elementwise(self) { Kernels.affine($0, scale: c, shift: 0, into: $1, count: $2) }
        return Tensor.record(y, operation: "scale", inputs: [self], rule: Derivatives.ofScale(c))
    }

    /// self + c.
    public func shifted(by c: Float) -> Tensor {
        let y = elementwise(self) { Kernels.affine($0, scale: 1, shift: c, into: $1, count: $2) }
        return Tensor.record(y, operation: "shift", inputs: [self], rule: Derivatives.ofShift)
    }

    /// −self.
    public func negated() -> Tensor { scaled(by: -1) }

    /// selfᵖ, elementwise.
    public func pow(_ p: Float) -> Tensor {
        let y: Tensor
        if p == 2 {
            y = elementwise(self) { Kernels.map($0, into: $1, count: $2) { $0 * $0 } }
        } else {
            y = elementwise(self) { Kernels.map($0, into: $1, count: $2) { Foundation.pow($0, p) } }
        }
        return Tensor.record(y, operation: "pow", inputs: [self], rule: Derivatives.ofPow(p))
    }

    /// √self, elementwise.
    public func squareRoot() -> Tensor {
        let y = elementwise(self) { Kernels.map($0, into: $1, count: $2) { $0.squareRoot() } }
        return Tensor.record(y, operation: "sqrt", inputs: [self], rule: Derivatives.ofSquareRoot)
    }
}
