import Foundation

/// Completes per-channel sums computed over one shard of a batch into the sums over the whole batch, in place.
/// Batch norm calls it once in forward ([Σx, Σx², n]) and once in backward ([Σdy, Σdy·x̂]) when the batch is
/// split over data-parallel replicas (SyncBN); the engine does not know how the shards are combined.
public typealias ChannelSumCompletion = (inout [Double]) throws -> Void

/// Batch mean and variance per channel, over every replica's samples.
public struct BatchStatistics {
    public var mean: [Double]
    /// Biased (divided by count): what normalises the batch.
    public var variance: [Double]
    /// Values per channel over all replicas (N·H·W summed over ranks).
    public var count: Int

    /// Divided by count − 1: what the running variance tracks (PyTorch's convention).
    public var unbiasedVariance: [Double] {
        let factor = count > 1 ? Double(count) / Double(count - 1) : 1
        return variance.map { $0 * factor }
    }
}

/// Batch normalisation in training mode: y = γ · (x − μ) / √(σ² + ε) + β per channel, with μ and σ² from
/// this batch — the whole batch's when `completeSums` combines this shard's sums with the other replicas'.
/// Gradients are first-order only: asking for a second derivative through it throws.
/// - Parameters: x `(N, C)` or `(N, C, H, W)`; weight γ and bias β `(C)`, or nil for no affine transform.
public func batchNorm(
    _ x: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float, completeSums: ChannelSumCompletion? = nil
) throws -> (output: Tensor, statistics: BatchStatistics) {
    let layout = try ChannelLayout("batchNorm", x.shape)
    for parameter in [weight, bias].compactMap({ $0 }) where parameter.shape != [layout.channels] {
        throw TensorError.shapeMismatch(
            operation: "batchNorm", detail: "affine parameter \(describe(parameter.shape)) for \(layout.channels) channels")
    }
    let channels = layout.channels
    // [Σx (C), Σx² (C), n]: one reduction for all three.
    var sums = [Double](repeating: 0, count: 2 * channels + 1)
    let (xp, s) = (x.pointer, layout.spatial)
    layout.forEachRun { c, start in
        var total = 0.0, squares = 0.0
        for i in start..<(start + s) {
            let v = Double(xp[i])
            total += v
            squares += v * v
        }
        sums[c] += total
        sums[channels + c] += squares
    }
    sums[2 * channels] = Double(layout.batch * layout.spatial)
    try completeSums?(&sums)
    let count = Int(sums[2 * channels].rounded())
    guard count > 1 else {
        throw TensorError.invalidArgument(
            operation: "batchNorm", detail: "expected more than 1 value per channel when training, got input \(describe(x.shape))")
    }
    let mean = (0..<channels).map { sums[$0] / Double(count) }
    let variance = (0..<channels).map { max(sums[channels + $0] / Double(count) - mean[$0] * mean[$0], 0) }
    let inverseStd = variance.map { Float(1 / ($0 + Double(epsilon)).squareRoot()) }

    let y = Tensor(uninitialized: x.shape)
    let yp = y.pointer
    layout.forEachRun { c, start in
        let scale = inverseStd[c] * (weight?.pointer[c] ?? 1)
        let shift = (bias?.pointer[c] ?? 0) - Float(mean[c]) * scale
        for i in start..<(start + s) { yp[i] = xp[i] * scale + shift }
    }
    let inputs = [x] + [weight, bias].compactMap { $0 }
    let saved = BatchNormSaved(
        mean: mean.map(Float.init), inverseStd: inverseStd, count: count, affine: weight != nil, completeSums: completeSums)
    Tensor.record(y, operation: "batchNorm", inputs: inputs, rule: Derivatives.ofBatchNorm(saved))
    return (y, BatchStatistics(mean: mean, variance: variance, count: count))
}

/// What batch norm's backward pass keeps from the forward pass.
struct BatchNormSaved {
    let mean: [Float]
    let inverseStd: [Float]
    let count: Int
    let affine: Bool
    let completeSums: ChannelSumCompletion?
}
