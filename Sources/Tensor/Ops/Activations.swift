import Foundation

extension Tensor {
    /// max(x, 0).
    public func relu() -> Tensor { leakyRelu(slope: 0) }

    /// x where x > 0, slope · x elsewhere (slope 0 is ReLU).
    public func leakyRelu(slope: Float) -> Tensor {
        let y = unary(.leakyRelu(slope: slope), self)
        return Tensor.record(y, operation: "leakyRelu", inputs: [self], rule: Derivatives.ofLeakyRelu(slope))
    }

    public func tanh() -> Tensor {
        let y = unary(.tanh, self)
        return Tensor.record(y, operation: "tanh", inputs: [self], rule: Derivatives.ofTanh)
    }

    /// 1 / (1 + e⁻ˣ), computed without overflow for large |x|.
    public func sigmoid() -> Tensor {
        let y = unary(.sigmoid, self)
        return Tensor.record(y, operation: "sigmoid", inputs: [self], rule: Derivatives.ofSigmoid)
    }
}

// MARK: - Activation gradients as operations of their own
// Fused so that a first-order backward pass is one loop, and differentiable so that WGAN-GP's penalty can
// pass through them a second time.

/// g where x > 0, slope · g elsewhere: the gradient of leakyRelu(x) for upstream g.
func leakyReluGradient(_ g: Tensor, input x: Tensor, slope: Float) -> Tensor {
    let y = binary(.leakyReluGradient(slope: slope), g, x)
    return Tensor.record(
        y, operation: "leakyReluGradient", inputs: [g, x], rule: Derivatives.ofLeakyReluGradient(slope))
}

/// g · (1 − y²): the gradient of tanh for upstream g, given the output y.
func tanhGradient(_ g: Tensor, output y: Tensor) -> Tensor {
    let r = binary(.tanhGradient, g, y)
    return Tensor.record(r, operation: "tanhGradient", inputs: [g, y], rule: Derivatives.ofTanhGradient)
}

/// g · y · (1 − y): the gradient of sigmoid for upstream g, given the output y.
func sigmoidGradient(_ g: Tensor, output y: Tensor) -> Tensor {
    let r = binary(.sigmoidGradient, g, y)
    return Tensor.record(r, operation: "sigmoidGradient", inputs: [g, y], rule: Derivatives.ofSigmoidGradient)
}
