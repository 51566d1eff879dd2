/// One named tensor of a state dict: shape and values, float32 or int64 (PyTorch's `num_batches_tracked`).
public struct StateTensor: Equatable {
    public enum Values: Equatable {
        case float32([Float])
        case int64([Int64])
    }

    public var shape: [Int]
    public var values: Values

    public init(shape: [Int], values: Values) {
        self.shape = shape
        self.values = values
    }

    public init(_ tensor: Tensor) { self.init(shape: tensor.shape, values: .float32(tensor.scalars)) }

    public var dtypeName: String {
        switch values {
        case .float32: "float32"
        case .int64: "int64"
        }
    }

    public var count: Int {
        switch values {
        case let .float32(v): v.count
        case let .int64(v): v.count
        }
    }

    /// The values as a tensor (float32 entries only).
    public func tensor() throws -> Tensor {
        guard case let .float32(v) = values else {
            throw ModuleError.dtypeMismatch(name: "?", expected: "float32", found: dtypeName)
        }
        return try Tensor(v, shape: shape)
    }
}

/// Named tensors in insertion order: PyTorch's `state_dict()`.
public struct StateDict: Equatable {
    public private(set) var names: [String] = []
    private var entries: [String: StateTensor] = [:]

    public init() {}

    public subscript(name: String) -> StateTensor? {
        get { entries[name] }
        set {
            if entries[name] == nil, newValue != nil { names.append(name) }
            if newValue == nil { names.removeAll { $0 == name } }
            entries[name] = newValue
        }
    }

    public var count: Int { names.count }

    /// Entries whose names start with `prefix.`, with the prefix removed (`generator.model.0.weight` → `model.0.weight`).
    public func scoped(to prefix: String) -> StateDict {
        var result = StateDict()
        for name in names where name.hasPrefix(prefix + ".") {
            result[String(name.dropFirst(prefix.count + 1))] = entries[name]
        }
        return result
    }

    /// Adds every entry of `other` under `prefix.`.
    public mutating func merge(_ other: StateDict, prefix: String) {
        for name in other.names { self["\(prefix).\(name)"] = other[name] }
    }
}

extension Module {
    /// Parameters then buffers of each module, pre-order: the keys and order of PyTorch's `state_dict()`.
    public func stateDict() -> StateDict {
        var dict = StateDict()
        for (path, module) in namedModules() {
            let prefix = path.isEmpty ? "" : path + "."
            for (name, parameter) in module.ownParameters { dict[prefix + name] = StateTensor(parameter.value) }
            for (name, buffer) in module.ownBuffers {
                switch buffer.value {
                case let .float32(t): dict[prefix + name] = StateTensor(t)
                case let .int64(v): dict[prefix + name] = StateTensor(shape: [], values: .int64([v]))
                }
            }
        }
        return dict
    }

    /// Throws unless `dict` holds exactly this module's tensors, each with the right shape and dtype; names
    /// the first mismatch. `loadStateDict` runs it before it changes anything.
    public func checkStateDict(_ dict: StateDict) throws {
        let parameters = namedParameters(), buffers = namedBuffers()
        let expected = Set(parameters.map(\.name) + buffers.map(\.name))
        if let extra = dict.names.first(where: { !expected.contains($0) }) { throw ModuleError.unexpectedTensor(extra) }
        func check(_ name: String, shape: [Int], int64: Bool) throws {
            guard let entry = dict[name] else { throw ModuleError.missingTensor(name) }
            let dtype = int64 ? "int64" : "float32"
            guard entry.dtypeName == dtype else {
                throw ModuleError.dtypeMismatch(name: name, expected: dtype, found: entry.dtypeName)
            }
            guard entry.shape == shape, entry.count == shape.reduce(1, *) else {
                throw ModuleError.shapeMismatch(name: name, expected: shape, found: entry.shape)
            }
        }
        for (name, parameter) in parameters { try check(name, shape: parameter.shape, int64: false) }
        for (name, buffer) in buffers {
            switch buffer.value {
            case let .float32(t): try check(name, shape: t.shape, int64: false)
            case .int64: try check(name, shape: [], int64: true)
            }
        }
    }

    /// Copies every tensor of `dict` into this module, in place (PyTorch's `load_state_dict(strict=True)`).
    /// Nothing is changed unless every name, shape and dtype matches; the error names the first mismatch.
    public func loadStateDict(_ dict: StateDict) throws {
        try checkStateDict(dict)
        let parameters = namedParameters(), buffers = namedBuffers()
        func copy(_ entry: StateTensor, into tensor: Tensor) throws {
            guard case let .float32(values) = entry.values else { return }
            try tensor.assign(values)
        }
        for (name, parameter) in parameters { try copy(dict[name]!, into: parameter.value) }
        for (name, buffer) in buffers {
            switch buffer.value {
            case let .float32(t): try copy(dict[name]!, into: t)
            case .int64:
                if case let .int64(v) = dict[name]!.values { buffer.value = .int64(v[0]) }
            }
        }
    }
}
