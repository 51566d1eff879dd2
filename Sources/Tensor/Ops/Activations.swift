import Foundation

extension Tensor {
    /// max(x, 0).
    public func relu() -> Tensor { leakyRelu(slope: 0) }

    /// x where x > 0, slope · x elsewhere (slope 0 is ReLU).
    public func leakyRelu(slope: Float) -> Tensor {
        let y = elementwise(self) { Kernels.map($0, into: $1, count: $2) { $0 > 0 ? $0 : slope * $0 } }
        return Tensor.record(y, operation: "leakyRelu", inputs: [self], rule: Derivatives.ofLeakyRelu(slope))
    }

    public func tanh() -> Tensor {
        let y = elementwise(self) { Kernels.map($0, into: $1, count: $2) { Foundation.tanh($0) } }
        return Tensor.record(y, operation: "tanh", inputs: [self], rule: Derivatives.ofTanh)
    }

    /// 1 / (1 + e⁻ˣ), computed without overflow for large |x|.
    public func sigmoid() -> Tensor {
        let y = elementwise(self) { Kernels.map($0, into: $1, count: $2, stableSigmoid) }
        return Tensor.record(y, operation: "sigmoid", inputs: [self], rule: Derivatives.ofSigmoid)
    }
}

@inlinable func stableSigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
    let e = Foundation.exp(x)
    return e / (1 + e)
}

// MARK: - Activation gradients as operations of their own
// Fused so that a first-order backward pass is one loop, and differentiable so that WGAN-GP's penalty can
// pass through them a second time.

/// g where x > 0, slope · g elsewhere: the gradient of leakyRelu(x) for upstream g.
func leakyReluGradient(_ g: Tensor, input x: Tensor, slope: Float) -> Tensor {
    let y = elementwise(g, x) { Kernels.zip($0, $1, into: $2, count: $3) { g, x in x > 0 ? g : slope * g } }
    return Tensor.record(y, operation: "leakyReluGradient", inputs: [g, x], rule: Derivatives.ofLeakyReluGradient(slope))
}

/// g · (1 − y²): the gradient of tanh for upstream g, given the output y.
func tanhGradient(_ g: Tensor, output y: Tensor) -> Tensor {
    let r = elementwise(g, y) { Kernels.zip($0, $1, into: $2, count: $3) { g, y in g * (1 - y * y) } }
    return Tensor.record(r, operation: "tanhGradient", inputs: [g, y], rule: Derivatives.ofTanhGradient)
}

/// g · y · (1 − y): the gradient of sigmoid for upstream g, given the output y.
func sigmoidGradient(_ g: Tensor, output y: Tensor) -> Tensor {
    let r = elementwise(g, y) { Kernels.zip($0, $1, into: $2, count: $3) { g, y in g * y * (1 - y) } }
    return Tensor.record(r, operation: "sigmoidGradient", inputs: [g, y], rule: Derivatives.ofSigmoidGradient)
}
