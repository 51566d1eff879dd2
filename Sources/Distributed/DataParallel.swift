import Foundation
import NN

/// Data-parallel training of one model, shaped like PyTorch's `DistributedDataParallel`: every rank holds a
/// replica, trains it on its shard of each batch, and `backward(_:)` leaves the mean gradient over all ranks
/// in the model's gradient arena, so that the same optimiser step keeps the replicas identical.
///
/// Constructing it makes this rank's replica rank 0's (parameters, buffers and the optimiser's state, since
/// only rank 0 reads a checkpoint), verifies that by checksum, and switches the model's batch-norm layers to
/// statistics over the whole global batch (SyncBN). A GAN wraps its generator and discriminator separately.
///
/// Gradients are averaged in buckets of about `bucketBytes`, cut from the end of the arena (the last layers,
/// whose gradients backward finishes first). With `overlap`, a bucket's non-blocking allreduce starts as soon
/// as backward has finished all of its parameters (DDP's buckets, Horovod's tensor fusion); without, one
/// blocking allreduce of the whole arena follows backward.
public final class DataParallel {
    public let module: Module
    public let arena: ParameterArena
    public let communicator: Communicator
    public let overlap: Bool
    private var buckets: [GradientBucket]
    /// The parameter (its index in the arena) at each arena offset: a finished gradient is identified by its
    /// offset.
    private let parameterAtOffset: [Int: Int]
    /// The bucket of each parameter, by index in the arena.
    private let bucketOfParameter: [Int]
    /// Which parameters the current backward has written a gradient for.
    private var reached: [Bool]
    private let statistics: SyncStatistics?
    /// A host copy of the gradients when the arena lives on a GPU: MPI reduces host memory. (A CUDA-aware MPI
    /// could take device pointers instead; not used yet.)
    private let staging: Tensor?  // (arena.count)
    private var allreduceWait = 0.0

    /// Whether backward's gradients are already the sums over every rank's samples (reproducible mode, where
    /// each operation sums over the ranks itself: `ReproducibleBatch`), so there is nothing left to average.
    public let gradientsAreGlobal: Bool
    /// Whether backward's gradients are averaged here: several ranks, and not reproducible mode.
    private let reducesGradients: Bool

    public init(
        _ module: Module, arena: ParameterArena, optimizer: Optimizer? = nil, communicator: Communicator,
        overlap: Bool = true, bucketBytes: Int = 4 << 20, gradientsAreGlobal: Bool = false
    ) throws {
        self.module = module
        self.arena = arena
        self.communicator = communicator
        self.overlap = overlap && !gradientsAreGlobal
        self.gradientsAreGlobal = gradientsAreGlobal
        (buckets, bucketOfParameter) = GradientBucket.partition(arena, bucketBytes: bucketBytes)
        parameterAtOffset = Dictionary(uniqueKeysWithValues: arena.offsets.enumerated().map { ($1, $0) })
        reached = Array(repeating: false, count: arena.parameters.count)
        reducesGradients = communicator.size > 1 && !gradientsAreGlobal
        staging = arena.gradients.storage.isHost || !reducesGradients ? nil : Tensor(zeros: [arena.count])
        let optimizers = optimizer.map { [$0] } ?? []
        try ReplicaState.broadcast(modules: [module], optimizers: optimizers, communicator: communicator)
        try ReplicaState.verify(modules: [module], optimizers: optimizers, communicator: communicator)
        if reducesGradients {
            let statistics = SyncStatistics(communicator: communicator)
            for (_, layer) in module.namedModules() { (layer as? BatchNorm)?.reducer = statistics }
            self.statistics = statistics
        } else {
            statistics = nil
        }
    }

    public var bucketCount: Int { buckets.count }

    // MARK: - Backward

    /// Replaces the arena's gradients with d(loss)/d(parameters) averaged over every rank's batch shard. Each
    /// rank calls it with its own loss; it returns once the mean is in place.
    ///
    /// Backward writes each reached parameter's gradient once, over the last step's (`replacingGradients`); the
    /// parameters it did not reach get zeros before any bucket holding them is reduced.
    public func backward(_ loss: Tensor) throws {
        for index in reached.indices { reached[index] = false }
        for index in buckets.indices { buckets[index].restart() }
        try loss.backward(replacingGradients: true, onLeafReady: parameterFinished)
        zeroGradientsNotReached()
        let started = DispatchTime.now().uptimeNanoseconds
        try averageGradients()
        allreduceWait += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// Backward's notice that `leaf`'s gradient is complete; also nudges the reductions in flight along, since
    /// Open MPI advances a non-blocking collective only inside MPI calls.
    private func parameterFinished(_ leaf: Tensor) throws {
        guard leaf.storage === arena.values.storage, let parameter = parameterAtOffset[leaf.offset] else { return }
        reached[parameter] = true
        guard overlap, communicator.size > 1 else { return }
        let index = bucketOfParameter[parameter]
        buckets[index].remaining -= 1
        if buckets[index].remaining == 0 { try start(index) }
        for bucket in buckets { try bucket.pending?.test() }
    }

    private func start(_ index: Int) throws {
        let range = buckets[index].range
        buckets[index].pending = try communicator.startAllreduceSum(hostGradients(range), count: range.count)
    }

    /// The host memory that holds gradients `range` for MPI: the arena itself, or the staging copy filled
    /// from the device.
    private func hostGradients(_ range: Range<Int>) -> UnsafeMutablePointer<Float> {
        guard let staging else { return arena.gradients.pointer + range.lowerBound }
        let slice = Tensor(shape: [range.count], storage: arena.gradients.storage, offset: range.lowerBound)
        arena.gradients.backend.download(slice, into: staging.pointer + range.lowerBound)
        return staging.pointer + range.lowerBound
    }

    /// Each parameter's `grad` is its slice of the arena (`ParameterArena`), the one backward would have written.
    private func zeroGradientsNotReached() {
        for (index, wasReached) in reached.enumerated() where !wasReached {
            guard let gradient = arena.parameters[index].parameter.value.grad else { continue }
            gradient.backend.fill(gradient, with: 0)
        }
    }

    /// Starts the buckets backward did not fill (parameters it never reached), in bucket order on every rank,
    /// waits for all, and divides by the number of ranks.
    private func averageGradients() throws {
        guard reducesGradients else { return }
        if overlap {
            for index in buckets.indices where buckets[index].pending == nil { try start(index) }
            for bucket in buckets { try bucket.pending?.wait() }
        } else {
            try communicator.allreduceSum(hostGradients(0..<arena.count), count: arena.count)
        }
        if let staging { arena.gradients.backend.upload(staging.pointer, into: arena.gradients) }
        arena.gradients.backend.unary(
            .affine(scale: 1 / Float(communicator.size), shift: 0), arena.gradients, into: arena.gradients)
    }

    // MARK: - Timers

    /// Seconds spent waiting for gradient reductions after backward, since the last `resetTimers()`.
    public var allreduceSeconds: Double { allreduceWait }
    /// Seconds spent in batch-norm statistic reductions (forward and backward), since the last `resetTimers()`.
    public var syncBatchNormSeconds: Double { statistics?.seconds ?? 0 }
    /// Batch-norm statistic reductions since the last `resetTimers()`.
    public var syncBatchNormCollectives: Int { statistics?.calls ?? 0 }

    public func resetTimers() {
        allreduceWait = 0
        statistics?.seconds = 0
        statistics?.calls = 0
    }
}

/// A slice of the gradient arena reduced by one collective.
struct GradientBucket {
    let range: Range<Int>  // floats of the arena
    let parameterCount: Int
    var remaining: Int
    var pending: PendingReduction?

    mutating func restart() {
        remaining = parameterCount
        pending = nil
    }

    /// Walks the parameters from the last to the first, closing a bucket once it holds `bucketBytes`; returns
    /// the buckets and each parameter's bucket, by index in the arena.
    static func partition(_ arena: ParameterArena, bucketBytes: Int) -> ([GradientBucket], [Int]) {
        var buckets: [GradientBucket] = [], bucketOfParameter = Array(repeating: 0, count: arena.parameters.count)
        var end = arena.count, members = 0
        for index in arena.parameters.indices.reversed() {
            members += 1
            let start = arena.offsets[index]
            bucketOfParameter[index] = buckets.count
            if (end - start) * 4 >= bucketBytes || index == 0 {
                buckets.append(GradientBucket(range: start..<end, parameterCount: members, remaining: members))
                end = start
                members = 0
            }
        }
        return (buckets, bucketOfParameter)
    }
}

/// Batch norm's statistics summed across ranks: every rank normalises with the statistics of the whole global
/// batch, so running statistics stay identical and the result equals one process's.
final class SyncStatistics: StatisticsReducer {
    let communicator: Communicator
    var seconds = 0.0, calls = 0

    init(communicator: Communicator) { self.communicator = communicator }

    func sum(_ values: inout [Double]) throws {
        calls += 1
        let started = DispatchTime.now().uptimeNanoseconds
        try values.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0.baseAddress!, count: $0.count) }
        seconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }
}
