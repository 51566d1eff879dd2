import Foundation
import NN

/// Averages a model's gradients across ranks after each backward pass. The gradient arena is cut into
/// buckets of about `bucketBytes`, from its end (the last layers, whose gradients backward finishes first);
/// with `overlap`, a bucket's non-blocking allreduce starts as soon as backward has finished all its
/// parameters, and `finish()` waits for them (PyTorch DDP's gradient buckets, Horovod's tensor fusion).
/// Without, `finish()` makes one blocking allreduce of the whole arena. Either way every rank ends with the
/// same mean gradient.
public final class GradientAverager {
    struct Bucket {
        let range: Range<Int>  // floats of the arena
        let parameterCount: Int
        var remaining: Int
        var pending: PendingReduction?
    }

    public let arena: ParameterArena
    public let communicator: Communicator
    public let overlap: Bool
    private var buckets: [Bucket] = []
    private var bucketOfParameter: [ObjectIdentifier: Int] = [:]
    /// Seconds spent waiting for reductions (in `finish()`), since the last `resetTimers()`.
    public private(set) var waitSeconds = 0.0

    public init(arena: ParameterArena, communicator: Communicator, overlap: Bool = true, bucketBytes: Int = 4 << 20) {
        self.arena = arena
        self.communicator = communicator
        self.overlap = overlap
        // Walk the parameters from the last to the first, closing a bucket once it holds bucketBytes.
        var end = arena.count, members: [Int] = []
        for index in arena.parameters.indices.reversed() {
            members.append(index)
            let start = arena.offsets[index]
            if (end - start) * 4 >= bucketBytes || index == 0 {
                buckets.append(Bucket(range: start..<end, parameterCount: members.count, remaining: members.count))
                for member in members { bucketOfParameter[ObjectIdentifier(arena.parameters[member].parameter)] = buckets.count - 1 }
                end = start
                members = []
            }
        }
        tensorBucket = [:]
    }

    /// Parameter value tensors (which `ParameterArena` may replace) mapped to their bucket, refreshed per pass.
    private var tensorBucket: [ObjectIdentifier: Int]

    public var bucketCount: Int { buckets.count }

    /// Call before a backward pass; pass `parameterReady` as its `onLeafReady`.
    public func beginBackward() {
        tensorBucket = [:]
        for (_, parameter) in arena.parameters {
            tensorBucket[ObjectIdentifier(parameter.value)] = bucketOfParameter[ObjectIdentifier(parameter)]
        }
        for index in buckets.indices {
            buckets[index].remaining = buckets[index].parameterCount
            buckets[index].pending = nil
        }
    }

    /// Backward's notice that `leaf`'s gradient is complete. Also nudges the reductions in flight along.
    public func parameterReady(_ leaf: Tensor) throws {
        guard overlap, communicator.size > 1, let index = tensorBucket[ObjectIdentifier(leaf)] else { return }
        buckets[index].remaining -= 1
        if buckets[index].remaining == 0 { try start(index) }
        for bucket in buckets where bucket.pending != nil { try bucket.pending?.test() }
    }

    private func start(_ index: Int) throws {
        let range = buckets[index].range
        buckets[index].pending = try communicator.startAllreduceSum(arena.gradients.pointer + range.lowerBound, count: range.count)
    }

    /// Completes the averaging: starts the buckets backward did not fill (parameters it never reached), in
    /// bucket order on every rank, waits for all, and divides by the number of ranks.
    public func finish() throws {
        guard communicator.size > 1 else { return }
        let started = DispatchTime.now().uptimeNanoseconds
        if overlap {
            for index in buckets.indices where buckets[index].pending == nil { try start(index) }
            for bucket in buckets { try bucket.pending?.wait() }
        } else {
            try communicator.allreduceSum(arena.gradients.pointer, count: arena.count)
        }
        Kernels.affine(arena.gradients.pointer, scale: 1 / Float(communicator.size), shift: 0, into: arena.gradients.pointer, count: arena.count)
        waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    public func resetTimers() { waitSeconds = 0 }
}

/// Batch norm's statistics summed across ranks: SyncBN. Every rank normalises with the statistics of the
/// whole global batch, so running statistics stay identical and the result equals one process's.
public final class SyncBatchNormReducer: StatisticsReducer {
    let communicator: Communicator
    /// Seconds spent in these reductions since the last reset.
    public private(set) var seconds = 0.0

    public init(communicator: Communicator) { self.communicator = communicator }

    public func sum(_ values: UnsafeMutablePointer<Double>, count: Int) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        try communicator.allreduceSum(values, count: count)
        seconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    public func resetTimers() { seconds = 0 }
}
