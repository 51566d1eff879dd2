/// RMSprop with PyTorch's update rule and defaults (`torch.optim.RMSprop`, not centred, no momentum):
/// s ← α·s + (1 − α)·g²; p ← p − lr · g / (√s + ε).
public final class RMSprop: Optimizer {
    public let arena: ParameterArena
    public var learningRate: Float
    public let alpha: Float
    public let epsilon: Float
    public var stepCount = 0
    public var parameterRange: ClosedRange<Float>?
    let squareAverage: Tensor  // square_avg, (arena)

    public init(_ arena: ParameterArena, learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8) {
        self.arena = arena
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        squareAverage = Tensor(zeros: [arena.count], backend: arena.values.backend)
    }

    public var stateArenas: [(name: String, values: Tensor)] { [("square_avg", squareAverage)] }

    @discardableResult public func step() -> Double {
        stepCount += 1
        return arena.values.backend.update(
            .rmsprop(learningRate: learningRate, alpha: alpha, epsilon: epsilon),
            parameters: arena.values, gradients: arena.gradients, state: [squareAverage],
            clampingTo: parameterRange
        ).squareRoot()
    }
}
