/// Plain stochastic gradient descent, `torch.optim.SGD` without momentum: p ← p − lr · g.
/// Its step is linear in the gradient, so it shows gradient differences undistorted (Adam and RMSprop
/// normalise each gradient by its own magnitude, which turns rounding-level gradients into full steps).
public final class SGD: Optimizer {
    public let arena: ParameterArena
    public var learningRate: Float
    public var stepCount = 0
    public var parameterRange: ClosedRange<Float>?

    public init(_ arena: ParameterArena, learningRate: Float) {
        self.arena = arena
        self.learningRate = learningRate
    }

    public var stateArenas: [(name: String, values: Tensor)] { [] }

    @discardableResult public func step() -> Double {
        stepCount += 1
        return arena.values.backend.update(
            .sgd(learningRate: learningRate), parameters: arena.values, gradients: arena.gradients, state: [],
            clampingTo: parameterRange
        ).squareRoot()
    }
}
