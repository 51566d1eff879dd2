/// An optimiser over a `ParameterArena`: its state lives in arenas of the same layout, so a step is one loop.
public protocol Optimizer: AnyObject {
    var arena: ParameterArena { get }
    var learningRate: Float { get set }
    /// Steps taken so far (PyTorch's per-parameter `step`, the same for every parameter here).
    var stepCount: Int { get set }
    /// Named state arenas (`exp_avg`, `exp_avg_sq`, `square_avg`), each laid out like the parameter arena.
    var stateArenas: [(name: String, values: Tensor)] { get }
    /// After every step each parameter is clamped to this range when it is set: WGAN's weight clipping, done
    /// in the step's own pass over the parameters.
    var parameterRange: ClosedRange<Float>? { get set }
    /// Applies one update from the gradients in `arena.gradients`; returns their L2 norm, read in the same pass.
    @discardableResult func step() -> Double
}

extension Optimizer {
    /// Per-parameter state under PyTorch-like names: `<parameter>.<state>`, e.g. `model.0.weight.exp_avg`.
    public func stateDict() -> StateDict {
        var dict = StateDict()
        for (name, values) in stateArenas {
            for ((parameterName, parameter), offset) in zip(arena.parameters, arena.offsets) {
                let view = Tensor(shape: parameter.shape, storage: values.storage, offset: offset)
                dict["\(parameterName).\(name)"] = StateTensor(view)
            }
        }
        dict["step"] = StateTensor(shape: [], values: .int64([Int64(stepCount)]))
        return dict
    }

    /// Throws unless `dict` holds every state tensor with the right shape, and the step.
    public func checkStateDict(_ dict: StateDict) throws {
        for (name, _) in stateArenas {
            for (parameterName, parameter) in arena.parameters {
                let key = "\(parameterName).\(name)"
                guard let entry = dict[key] else { throw ModuleError.missingTensor(key) }
                guard entry.dtypeName == "float32" else {
                    throw ModuleError.dtypeMismatch(name: key, expected: "float32", found: entry.dtypeName)
                }
                guard entry.shape == parameter.shape else {
                    throw ModuleError.shapeMismatch(name: key, expected: parameter.shape, found: entry.shape)
                }
            }
        }
        guard case let .int64(step)? = dict["step"]?.values, step.count == 1 else {
            throw ModuleError.missingTensor("step")
        }
    }

    /// Restores state written by `stateDict()`. Nothing changes unless all of it fits.
    public func loadStateDict(_ dict: StateDict) throws {
        try checkStateDict(dict)
        for (name, values) in stateArenas {
            for ((parameterName, _), offset) in zip(arena.parameters, arena.offsets) {
                guard case let .float32(v)? = dict["\(parameterName).\(name)"]?.values else { continue }
                try Tensor(shape: [v.count], storage: values.storage, offset: offset).assign(v)
            }
        }
        if case let .int64(step)? = dict["step"]?.values { stepCount = Int(step[0]) }
    }
}
