/// The other ranks of a data-parallel job, as reproducible sums need them: one pairwise exchange per level
/// of a binary tree. `Distributed`'s communicators provide it; the engine knows nothing of MPI.
public protocol PairwiseExchange: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Sends `byteCount` bytes from `outgoing` to rank `partner` and receives as many from it into `incoming`.
    func exchange(
        _ outgoing: UnsafeRawPointer, into incoming: UnsafeMutableRawPointer, byteCount: Int, partner: Int) throws
}

/// Reproducible mode: every sum over the samples of a global batch comes out the same, to the bit, however
/// the batch is split over ranks.
///
/// The global batch is cut into `chunkCount` fixed chunks of `chunkSize` samples. Operations on tensors that
/// hold samples (`Tensor.samples`) run their GEMMs one chunk at a time, so a sample's arithmetic never depends
/// on how many samples share a call (OpenBLAS and cuBLAS choose kernels by size). A sum over samples (a
/// weight gradient, batch-norm statistics, a loss mean) is a partial sum per chunk, added along a balanced
/// binary tree over the chunks: a rank adds its own chunks' subtree, then the ranks exchange subtrees level
/// by level (recursive doubling). Float addition is commutative, so both partners of a level compute the same
/// bits, and the tree does not depend on where its leaves were computed. The results are the global sums on
/// every rank: gradients need no allreduce afterwards.
///
/// The chunk count and the world size are powers of two, and the world size divides the chunk count.
public final class ReproducibleBatch {
    /// Chunks in the global batch, and samples in each.
    public let chunkCount: Int
    public let chunkSize: Int
    /// This rank's place among the ranks; nil in one process.
    public let peers: PairwiseExchange?

    /// The batch of the training step under way, while one is; operations on sample tensors consult it.
    nonisolated(unsafe) public private(set) static var current: ReproducibleBatch?

    public init(globalBatch: Int, chunkCount: Int, peers: PairwiseExchange?) throws {
        let ranks = peers?.size ?? 1
        guard chunkCount > 0, chunkCount & (chunkCount - 1) == 0, globalBatch % chunkCount == 0 else {
            throw TensorError.invalidArgument(
                operation: "reproducible",
                detail:
                    "the chunk count must be a power of two that divides the batch of \(globalBatch); got \(chunkCount)"
            )
        }
        guard ranks & (ranks - 1) == 0, chunkCount % ranks == 0 else {
            throw TensorError.invalidArgument(
                operation: "reproducible",
                detail:
                    "\(ranks) ranks cannot share \(chunkCount) chunks: use a power of two up to \(chunkCount) ranks"
            )
        }
        self.chunkCount = chunkCount
        self.chunkSize = globalBatch / chunkCount
        self.peers = ranks > 1 ? peers : nil
    }

    /// Runs `body` with this batch in effect (one training step).
    public func during<T>(_ body: () throws -> T) rethrows -> T {
        let saved = Self.current
        Self.current = self
        defer { Self.current = saved }
        return try body()
    }

    /// The chunk count of this rank's `samples`.
    func localChunks(_ samples: Int, _ operation: String) throws -> Int {
        guard samples == chunkCount / ranks * chunkSize else {
            throw TensorError.invalidArgument(
                operation: operation,
                detail:
                    "reproducible mode expects \(chunkCount / ranks) chunks of \(chunkSize) samples on this rank, got \(samples) samples"
            )
        }
        return chunkCount / ranks
    }

    /// Calls `body(chunk, chunkSize)` for each of the chunks of sample tensor `x`.
    func forEachChunk(of x: Tensor, _ body: (Int, Int) throws -> Void) throws {
        for c in 0..<(try localChunks(x.shape[0], "chunk")) { try body(c, chunkSize) }
    }

    /// The world size.
    var ranks: Int { peers?.size ?? 1 }

    // MARK: - Tree sums

    /// Σ over the global batch of `partial(chunk)`, one tensor per local chunk, added along the tree.
    func sum(chunks: Int, _ partial: (Int) throws -> Tensor) throws -> Tensor {
        try acrossRanks(treeSum(chunks: chunks, partial) { a, b in a.backend.binary(.add, a, b, into: a) })
    }

    /// The form for GEMM partials: `product(chunk, c, beta)` writes the chunk's partial into c (beta 0) or
    /// adds it to c's values (beta 1), as GEMM does. Neighbouring chunks, the tree's first level, share one
    /// buffer: a GEMM with beta 1 and a single block of its short k computes fl(C + A·B), the bits of adding
    /// the two partials afterwards, without the pass over memory that adding would take.
    func sum(
        chunks: Int, shape: [Int], backend: Backend, accumulating product: (Int, Tensor, Float) throws -> Void
    ) throws -> Tensor {
        func leaf(_ index: Int) throws -> Tensor {
            let partial = Tensor(uninitialized: shape, backend: backend)
            try product(chunks == 1 ? 0 : 2 * index, partial, 0)
            if chunks > 1 { try product(2 * index + 1, partial, 1) }
            return partial
        }
        let leaves = Swift.max(chunks / 2, 1)
        return try acrossRanks(treeSum(chunks: leaves, leaf) { a, b in a.backend.binary(.add, a, b, into: a) })
    }

    /// This rank's subtree sum `total` completed into the whole tree's, in place, on every rank.
    private func acrossRanks(_ total: Tensor) throws -> Tensor {
        try exchangeLevels { partner in
            let theirs = Tensor(uninitialized: total.shape, backend: total.backend)
            try exchange(total, theirs, partner: partner)
            total.backend.binary(.add, total, theirs, into: total)
        }
        total.samples = nil
        return total
    }

    /// The host-side form: Σ over the global batch of `partial(chunk)`, per element, in Double.
    func sum(chunks: Int, _ partial: (Int) throws -> [Double]) throws -> [Double] {
        var total = try treeSum(chunks: chunks, partial) { a, b in for i in a.indices { a[i] += b[i] } }
        try exchangeLevels { partner in
            var theirs = [Double](repeating: 0, count: total.count)
            try total.withUnsafeBytes { mine in
                try theirs.withUnsafeMutableBytes { incoming in
                    try peers!.exchange(
                        mine.baseAddress!, into: incoming.baseAddress!, byteCount: mine.count, partner: partner)
                }
            }
            for i in total.indices { total[i] += theirs[i] }
        }
        return total
    }

    /// The balanced binary tree over `chunks` partials (a power of two), computed left to right with one
    /// pending partial per level, as a binary counter carries.
    private func treeSum<Value>(
        chunks: Int, _ partial: (Int) throws -> Value, add: (inout Value, Value) -> Void
    ) throws -> Value {
        var pending: [(level: Int, value: Value)] = []
        for chunk in 0..<chunks {
            var entry = (level: 0, value: try partial(chunk))
            while let last = pending.last, last.level == entry.level {
                pending.removeLast()
                var left = last.value
                add(&left, entry.value)
                entry = (level: entry.level + 1, value: left)
            }
            pending.append(entry)
        }
        precondition(pending.count == 1, "a tree sum needs a power-of-two count of chunks, got \(chunks)")
        return pending[0].value
    }

    /// Calls `body(partner)` once per level of the tree above this rank's subtree.
    private func exchangeLevels(_ body: (Int) throws -> Void) throws {
        guard let peers else { return }
        var distance = 1
        while distance < peers.size {
            try body(peers.rank ^ distance)
            distance <<= 1
        }
    }

    /// Swaps `mine` for the partner's values of the same shape, through host memory.
    private func exchange(_ mine: Tensor, _ theirs: Tensor, partner: Int) throws {
        let byteCount = mine.count * MemoryLayout<Float>.stride
        if mine.storage.isHost {
            try peers!.exchange(mine.pointer, into: theirs.pointer, byteCount: byteCount, partner: partner)
            return
        }
        var outgoing = [Float](repeating: 0, count: mine.count), incoming = outgoing
        outgoing.withUnsafeMutableBufferPointer { mine.backend.download(mine, into: $0.baseAddress!) }
        try outgoing.withUnsafeBytes { out in
            try incoming.withUnsafeMutableBytes {
                try peers!.exchange(out.baseAddress!, into: $0.baseAddress!, byteCount: byteCount, partner: partner)
            }
        }
        incoming.withUnsafeBufferPointer { theirs.backend.upload($0.baseAddress!, into: theirs) }
    }
}

extension Tensor {
    /// Marks this tensor as this rank's samples along its first axis (a batch of data or noise): in
    /// reproducible mode, operations on it and on everything computed from it run chunk by chunk.
    @discardableResult
    public func markingSamples() -> Tensor {
        samples = shape.first
        return self
    }

    /// Samples `chunk` of `size` of this sample tensor: a view of rows `chunk·size ..< (chunk + 1)·size`.
    func chunk(_ chunk: Int, of size: Int) -> Tensor {
        let perSample = count / shape[0]
        var shape = self.shape
        shape[0] = size
        let view = Tensor(shape: shape, storage: storage, offset: offset + chunk * size * perSample)
        view.samples = size
        return view
    }

    /// Whether this tensor holds samples along its first axis in a reproducible step.
    var holdsSamples: Bool { samples != nil && samples == shape.first }

    /// The reproducible step under way when this tensor holds samples (an operation on it then runs in
    /// chunks); nil otherwise, and always outside reproducible mode.
    var reproducibleBatch: ReproducibleBatch? { samples == nil ? nil : ReproducibleBatch.current }
}
