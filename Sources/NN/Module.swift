@_exported import Tensor

/// A trainable tensor: a leaf that asks for gradients. Modules read `value` on every forward pass, so a
/// `ParameterArena` can move it into contiguous memory after the model is built.
public final class Parameter {
    public internal(set) var value: Tensor

    public init(_ value: Tensor) { self.value = value.detached().requiringGrad() }

    public var shape: [Int] { value.shape }
    public var grad: Tensor? { value.grad }
}

/// A tensor a module keeps that is not trained: running statistics, spectral norm's u and v, counters.
public final class Buffer {
    public enum Value {
        case float32(Tensor)
        case int64(Int64)
    }

    public var value: Value

    public init(_ value: Value) { self.value = value }

    /// The float tensor of a float32 buffer.
    public var tensor: Tensor {
        guard case let .float32(t) = value else { preconditionFailure("an int64 buffer has no float tensor") }
        return t
    }
}

/// A network layer or a container of layers, with named children, parameters and buffers: PyTorch's
/// `nn.Module`. Names compose with dots into `state_dict` keys (`model.3.running_mean`).
open class Module {
    public private(set) var children: [(name: String, module: Module)] = []
    public private(set) var ownParameters: [(name: String, parameter: Parameter)] = []
    public private(set) var ownBuffers: [(name: String, buffer: Buffer)] = []
    public private(set) var isTraining = true

    public init() {}

    // MARK: - Registration

    public func register(_ module: Module, as name: String) { children.append((name, module)) }
    public func register(_ parameter: Parameter, as name: String) { ownParameters.append((name, parameter)) }
    public func register(_ buffer: Buffer, as name: String) { ownBuffers.append((name, buffer)) }

    /// Removes and returns a parameter (spectral norm moves `weight` to `weight_orig`).
    func unregisterParameter(named name: String) -> Parameter? {
        guard let index = ownParameters.firstIndex(where: { $0.name == name }) else { return nil }
        return ownParameters.remove(at: index).parameter
    }

    // MARK: - Forward

    /// The module's computation. Containers and layers override it.
    open func forward(_ input: Tensor) throws -> Tensor {
        throw ModuleError.noForward(String(describing: type(of: self)))
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor { try forward(input) }

    // MARK: - Modes

    /// Training mode (batch statistics, power iterations) or evaluation mode, for this module and its children.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for child in children { child.module.setTraining(training) }
    }

    public func train() { setTraining(true) }
    public func eval() { setTraining(false) }

    // MARK: - Repeating a training pass

    /// Whether a second training-mode `forward` of the same input, with no parameter changed in between,
    /// returns the same values, so that a caller may keep the first pass's output (and its graph) and call
    /// `repeatTrainingState()` instead. False under spectral norm, whose power iteration moves u and v on
    /// every training pass. A layer whose training pass draws random numbers or moves other state must
    /// override this (false) or `repeatTrainingState()`.
    open var repeatsTrainingForward: Bool { children.allSatisfy { $0.module.repeatsTrainingForward } }

    /// Changes this module's and its children's state as a second training-mode `forward` of the last
    /// input would: batch norm takes that batch's statistics into its running statistics again.
    open func repeatTrainingState() throws {
        for child in children { try child.module.repeatTrainingState() }
    }

    // MARK: - Traversal

    /// Every module below and including this one, with its dotted path ("" for this one), pre-order.
    public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
        [(prefix, self)]
            + children.flatMap { child in
                child.module.namedModules(prefix: prefix.isEmpty ? child.name : "\(prefix).\(child.name)")
            }
    }

    /// Every trainable parameter with its state-dict name, in PyTorch's order.
    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        namedModules().flatMap { path, module in
            module.ownParameters.map { (path.isEmpty ? $0.name : "\(path).\($0.name)", $0.parameter) }
        }
    }

    /// Where the module's parameters live (the host for a module without any).
    public var device: Device { namedParameters().first?.parameter.value.device ?? .cpu }

    /// Moves every float buffer (running statistics, spectral norm's u and v) to `device`. Parameters move
    /// with their `ParameterArena`.
    public func moveBuffers(to device: Device) throws {
        for (_, buffer) in namedBuffers() {
            if case let .float32(tensor) = buffer.value { buffer.value = .float32(try tensor.to(device)) }
        }
    }

    public func namedBuffers() -> [(name: String, buffer: Buffer)] {
        namedModules().flatMap { path, module in
            module.ownBuffers.map { (path.isEmpty ? $0.name : "\(path).\($0.name)", $0.buffer) }
        }
    }

    /// Number of trainable values (weights and biases).
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.parameter.value.count } }
}

/// Errors from modules and state dicts, naming the tensor or module at fault.
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    case noForward(String)
    case missingTensor(String)
    case unexpectedTensor(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case dtypeMismatch(name: String, expected: String, found: String)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .noForward(type): "\(type) has no forward(_:) for a single tensor"
        case let .missingTensor(name): "state dict is missing \"\(name)\""
        case let .unexpectedTensor(name): "state dict has an unexpected tensor \"\(name)\""
        case let .shapeMismatch(name, expected, found):
            "state dict tensor \"\(name)\" has shape \(describe(found)), the model expects \(describe(expected))"
        case let .dtypeMismatch(name, expected, found):
            "state dict tensor \"\(name)\" is \(found), the model expects \(expected)"
        case let .invalidConfiguration(detail): detail
        }
    }
}

extension ModuleError {
    /// The same error with its tensor name under `prefix.` (a checkpoint's `generator.model.0.weight`).
    public func prefixed(by prefix: String) -> ModuleError {
        switch self {
        case let .missingTensor(name): .missingTensor("\(prefix).\(name)")
        case let .unexpectedTensor(name): .unexpectedTensor("\(prefix).\(name)")
        case let .shapeMismatch(name, expected, found):
            .shapeMismatch(name: "\(prefix).\(name)", expected: expected, found: found)
        case let .dtypeMismatch(name, expected, found):
            .dtypeMismatch(name: "\(prefix).\(name)", expected: expected, found: found)
        default: self
        }
    }
}
