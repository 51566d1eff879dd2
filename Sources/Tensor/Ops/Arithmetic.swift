import Foundation

// MARK: - Binary operations on equal shapes

/// a + b.
public func add(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Check.sameShape("add", a, b)
    let y = binary(.add, a, b)
    return Tensor.record(y, operation: "add", inputs: [a, b], rule: Derivatives.ofAdd)
}

/// a − b.
public func subtract(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Check.sameShape("subtract", a, b)
    let y = binary(.subtract, a, b)
    return Tensor.record(y, operation: "subtract", inputs: [a, b], rule: Derivatives.ofSubtract)
}

/// a · b, elementwise.
public func multiply(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Check.sameShape("multiply", a, b)
    let y = binary(.multiply, a, b)
    return Tensor.record(y, operation: "multiply", inputs: [a, b], rule: Derivatives.ofMultiply)
}

/// a / b, elementwise.
public func divide(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Check.sameShape("divide", a, b)
    let y = binary(.divide, a, b)
    return Tensor.record(y, operation: "divide", inputs: [a, b], rule: Derivatives.ofDivide)
}

/// x / s for a one-element tensor s (spectral norm's W / σ).
public func divide(_ x: Tensor, byScalar s: Tensor) throws -> Tensor {
    try Check.scalar("divide(_:byScalar:)", s)
    try Check.sameDevice("divide(_:byScalar:)", x, s)
    let y = x.sibling(x.shape)
    x.backend.divide(x, byScalar: s, into: y)
    return Tensor.record(y, operation: "divideByScalar", inputs: [x, s], rule: Derivatives.ofDivideByScalar)
}

// MARK: - Operations with a constant

extension Tensor {
    /// c · self.
    public func scaled(by c: Float) -> Tensor {
        let y = unary(.affine(scale: c, shift: 0), self)
        return Tensor.record(y, operation: "scale", inputs: [self], rule: Derivatives.ofScale(c))
    }

    /// self + c.
    public func shifted(by c: Float) -> Tensor {
        let y = unary(.affine(scale: 1, shift: c), self)
        return Tensor.record(y, operation: "shift", inputs: [self], rule: Derivatives.ofShift)
    }

    /// −self.
    public func negated() -> Tensor { scaled(by: -1) }

    /// selfᵖ, elementwise.
    public func pow(_ p: Float) -> Tensor {
        let y = unary(p == 2 ? .square : .power(p), self)
        return Tensor.record(y, operation: "pow", inputs: [self], rule: Derivatives.ofPow(p))
    }

    /// √self, elementwise.
    public func squareRoot() -> Tensor {
        let y = unary(.squareRoot, self)
        return Tensor.record(y, operation: "sqrt", inputs: [self], rule: Derivatives.ofSquareRoot)
    }
}
