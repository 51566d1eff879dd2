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
        firstMoment = Tensor(zeros: [arena.count])
        secondMoment = Tensor(zeros: [arena.count])
    }

    public var stateArenas: [(name: String, values: Tensor)] { [("exp_avg", firstMoment), ("exp_avg_sq", secondMoment)] }

    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(Double(learningRate) / (1 - Foundation.pow(Double(beta1), t)))
        let correction2Root = Float((1 - Foundation.pow(Double(beta2), t)).squareRoot())
        let (p, g, m, v) = (arena.values.pointer, arena.gradients.pointer, firstMoment.pointer, secondMoment.pointer)
        let (beta1, beta2, epsilon, decay) = (self.beta1, self.beta2, self.epsilon, weightDecay)
        for i in 0..<arena.count {
            let gi = decay == 0 ? g[i] : g[i] + decay * p[i]
            m[i] += (1 - beta1) * (gi - m[i])
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            let denominator = v[i].squareRoot() / correction2Root + epsilon
            p[i] -= stepSize * (m[i] / denominator)
        }
    }
}
