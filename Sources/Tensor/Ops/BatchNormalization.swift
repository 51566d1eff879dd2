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
/// - Parameters:
///   - x: `(N, C)` or `(N, C, H, W)`; weight γ and bias β `(C)`, or nil for no affine transform.
///   - activationSlope: when given, the output is `leakyRelu(y, slope)` (0: ReLU), computed in the same pass
///     over the batch, with the bits of the two operations one after the other. The slope must be ≥ 0, so
///     that the output's sign tells backward where the activation passed its input.
public func batchNorm(
    _ x: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float, activationSlope: Float? = nil,
    completeSums: ChannelSumCompletion? = nil
) throws -> (output: Tensor, statistics: BatchStatistics) {
    let layout = try ChannelLayout("batchNorm", x.shape)
    if let slope = activationSlope, !(slope >= 0 && slope.isFinite) {
        throw TensorError.invalidArgument(
            operation: "batchNorm", detail: "an activation slope after batch norm must be ≥ 0, got \(slope)")
    }
    for parameter in [weight, bias].compactMap({ $0 }) where parameter.shape != [layout.channels] {
        throw TensorError.shapeMismatch(
            operation: "batchNorm",
            detail: "affine parameter \(describe(parameter.shape)) for \(layout.channels) channels")
    }
    if let parameter = [weight, bias].compactMap({ $0 }).first { try Check.sameDevice("batchNorm", x, parameter) }
    let channels = layout.channels
    // [Σx (C), Σx² (C), n]: one reduction for all three.
    let reproducible = x.reproducibleBatch
    var sums: [Double]
    if let reproducible {  // over every rank's samples already, in a split-independent order
        sums = try reproducible.channelSums(layout, "batchNorm") {
            x.backend.batchNormSums(x.chunk($0, of: $1), layout: $2)
        }
        sums.append(Double(layout.batch * layout.spatial * reproducible.ranks))
    } else {
        sums = x.backend.batchNormSums(x, layout: layout) + [Double(layout.batch * layout.spatial)]
        try completeSums?(&sums)
    }
    let count = Int(sums[2 * channels].rounded())
    guard count > 1 else {
        throw TensorError.invalidArgument(
            operation: "batchNorm",
            detail: "expected more than 1 value per channel when training, got input \(describe(x.shape))")
    }
    let mean = (0..<channels).map { sums[$0] / Double(count) }
    let variance = (0..<channels).map { max(sums[channels + $0] / Double(count) - mean[$0] * mean[$0], 0) }
    let inverseStd = variance.map { Float(1 / ($0 + Double(epsilon)).squareRoot()) }

    // y = x · scale + shift per channel, with γ and β folded in (read on the host: C values each).
    let (gamma, beta) = (weight?.scalars, bias?.scalars)
    let scale = (0..<channels).map { inverseStd[$0] * (gamma?[$0] ?? 1) }
    let shift = (0..<channels).map { (beta?[$0] ?? 0) - Float(mean[$0]) * scale[$0] }
    let y = x.sibling(x.shape)
    x.backend.batchNormApply(x, scale: scale, shift: shift, activationSlope: activationSlope, layout: layout, into: y)
    let inputs = [x] + [weight, bias].compactMap { $0 }
    // The output as a plain view of its storage (no tape node), so that the rule can read it without the
    // node holding its own output.
    let activation = activationSlope.map {
        (slope: $0, output: Tensor(shape: y.shape, storage: y.storage, offset: y.offset))
    }
    let saved = BatchNormSaved(
        mean: mean.map(Float.init), inverseStd: inverseStd, count: count, affine: weight != nil,
        activation: activation, completeSums: completeSums, reproducible: reproducible)
    Tensor.record(y, operation: "batchNorm", inputs: inputs, rule: Derivatives.ofBatchNorm(saved))
    return (y, BatchStatistics(mean: mean, variance: variance, count: count))
}

/// What batch norm's backward pass keeps from the forward pass.
struct BatchNormSaved {
    let mean: [Float]
    let inverseStd: [Float]
    let count: Int
    let affine: Bool
    /// The activation applied in the same pass, and the output it produced.
    let activation: (slope: Float, output: Tensor)?
    let completeSums: ChannelSumCompletion?
    /// Set when the forward pass summed over every rank's samples: backward's sums are global too.
    let reproducible: ReproducibleBatch?

    /// [Σdy (C), Σdy·(x − mean) (C)]: over this rank's samples, or in reproducible mode over every rank's.
    func gradientSums(_ dy: Tensor, _ x: Tensor, layout: ChannelLayout) throws -> [Double] {
        guard let reproducible else { return x.backend.batchNormGradientSums(dy, x, mean: mean, layout: layout) }
        return try reproducible.channelSums(layout, "batchNorm") {
            x.backend.batchNormGradientSums(dy.chunk($0, of: $1), x.chunk($0, of: $1), mean: mean, layout: $2)
        }
    }
}

extension ReproducibleBatch {
    /// Per-channel sums over every rank's samples: `partial(chunk, chunkSize, chunkLayout)` for each chunk of
    /// this rank's (N, C, S) batch, added along the tree.
    func channelSums(
        _ layout: ChannelLayout, _ operation: String, _ partial: (Int, Int, ChannelLayout) -> [Double]
    ) throws -> [Double] {
        let chunk = ChannelLayout(batch: chunkSize, channels: layout.channels, spatial: layout.spatial)
        return try sum(chunks: localChunks(layout.batch, operation)) { partial($0, chunkSize, chunk) }
    }
}
