import NN

/// Makes every rank's replica identical to rank 0's and proves it.
public enum ReplicaState {
    /// Copies rank 0's parameters, buffers and optimiser state to every rank.
    public static func broadcast(modules: [Module], optimizers: [Optimizer], communicator: Communicator) throws {
        guard communicator.size > 1 else { return }
        for tensor in tensors(modules: modules, optimizers: optimizers) {
            // Through a host copy: MPI broadcasts host memory, and a tensor may live on a GPU.
            var values = tensor.scalars
            try values.withUnsafeMutableBytes {
                try communicator.broadcast($0.baseAddress!, byteCount: $0.count, root: 0)
            }
            try tensor.assign(values)
        }
        var integers = integerState(modules: modules, optimizers: optimizers)
        guard !integers.isEmpty else { return }
        try integers.withUnsafeMutableBytes {
            try communicator.broadcast($0.baseAddress!, byteCount: $0.count, root: 0)
        }
        var cursor = 0
        for module in modules {
            for (_, buffer) in module.namedBuffers() {
                if case .int64 = buffer.value {
                    buffer.value = .int64(integers[cursor])
                    cursor += 1
                }
            }
        }
        for optimizer in optimizers {
            optimizer.stepCount = Int(integers[cursor])
            cursor += 1
        }
    }

    /// Fails unless every rank holds exactly rank 0's state (compared by a position-weighted checksum).
    public static func verify(modules: [Module], optimizers: [Optimizer], communicator: Communicator) throws {
        guard communicator.size > 1 else { return }
        let sums = try communicator.allgather(checksum(modules: modules, optimizers: optimizers))
        if let rank = sums.indices.first(where: { sums[$0] != sums[0] }) {
            throw ReplicaError.diverged(rank: rank, checksum: sums[rank], rootChecksum: sums[0])
        }
    }

    /// Σ value · (1 + position mod 97) over every tensor, in Double: equal only for equal states, in practice.
    public static func checksum(modules: [Module], optimizers: [Optimizer]) -> Double {
        var total = 0.0
        for tensor in tensors(modules: modules, optimizers: optimizers) {
            for (i, value) in tensor.scalars.enumerated() { total += Double(value) * Double(1 + i % 97) }
        }
        return total + integerState(modules: modules, optimizers: optimizers).reduce(0) { $0 + Double($1) }
    }

    /// Every float tensor of the state: each model's parameter arena (or its parameters), its float buffers,
    /// and each optimiser's state arenas.
    static func tensors(modules: [Module], optimizers: [Optimizer]) -> [Tensor] {
        var result: [Tensor] = []
        for module in modules {
            result += module.namedParameters().map(\.parameter.value)
            for (_, buffer) in module.namedBuffers() { if case let .float32(t) = buffer.value { result.append(t) } }
        }
        for optimizer in optimizers { result += optimizer.stateArenas.map(\.values) }
        return result
    }

    static func integerState(modules: [Module], optimizers: [Optimizer]) -> [Int64] {
        var result: [Int64] = []
        for module in modules {
            for (_, buffer) in module.namedBuffers() { if case let .int64(v) = buffer.value { result.append(v) } }
        }
        return result + optimizers.map { Int64($0.stepCount) }
    }

    public enum ReplicaError: Error, CustomStringConvertible {
        case diverged(rank: Int, checksum: Double, rootChecksum: Double)
        public var description: String {
            switch self {
            case let .diverged(rank, checksum, root):
                "rank \(rank)'s model differs from rank 0's after the broadcast (checksum \(checksum), rank 0 \(root))"
            }
        }
    }
}
