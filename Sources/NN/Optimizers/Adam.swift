import Foundation

/// Adam with PyTorch's update rule and defaults (`torch.optim.Adam`, no AMSGrad):
/// m ← lerp(m, g, 1 − β₁); v ← β₂·v + (1 − β₂)·g²; p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε).
public final class Adam: Optimizer {
    public let arena: ParameterArena
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public var stepCount = 0
    public var parameterRange: ClosedRange<Float>?
    let firstMoment: Tensor  // exp_avg, (arena)
    let secondMoment: Tensor  // exp_avg_sq, (arena)

    public init(
        _ arena: ParameterArena, learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
        epsilon: Float = 1e-8, weightDecay: Float = 0
    ) {
        self.arena = arena
        self.learningRate = learningRate
        (beta1, beta2) = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoment = Tensor(zeros: [arena.count], backend: arena.values.backend)
        secondMoment = Tensor(zeros: [arena.count], backend: arena.values.backend)
    }

    public var stateArenas: [(name: String, values: Tensor)] {
        [("exp_avg", firstMoment), ("exp_avg_sq", secondMoment)]
    }

    @discardableResult public func step() -> Double {
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(Double(learningRate) / (1 - Foundation.pow(Double(beta1), t)))
        let correction2Root = Float((1 - Foundation.pow(Double(beta2), t)).squareRoot())
        return arena.values.backend.update(
            .adam(
                stepSize: stepSize, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                correction2Root: correction2Root),
            parameters: arena.values, gradients: arena.gradients, state: [firstMoment, secondMoment],
            clampingTo: parameterRange
        ).squareRoot()
    }
}
