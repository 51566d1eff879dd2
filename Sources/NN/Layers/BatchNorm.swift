/// Sums per-channel batch statistics across the replicas of a data-parallel job, in place: set on a
/// `BatchNorm` layer (as `DataParallel` does), it makes the layer synchronised (PyTorch's SyncBatchNorm).
public protocol StatisticsReducer: AnyObject {
    func sum(_ values: inout [Double]) throws
}

/// PyTorch's BatchNorm1d / BatchNorm2d: batch statistics in training (summed across replicas through
/// `reducer`), running statistics in evaluation. Buffers `running_mean`, `running_var` `(C)` and
/// `num_batches_tracked` (int64).
public class BatchNorm: Module {
    public let features: Int
    public let epsilon: Float
    public let momentum: Float
    public let weight: Parameter?
    public let bias: Parameter?
    public let runningMean: Buffer
    public let runningVariance: Buffer
    public let batchesTracked: Buffer
    /// Sums statistics across data-parallel replicas; nil (the default) normalises with this process's batch.
    public var reducer: StatisticsReducer?
    /// Input ranks accepted: 2 and 3 for BatchNorm1d, 4 for BatchNorm2d.
    let ranks: Set<Int>

    init(features: Int, epsilon: Float, momentum: Float, affine: Bool, ranks: Set<Int>) {
        self.features = features
        self.epsilon = epsilon
        self.momentum = momentum
        self.ranks = ranks
        weight = affine ? Parameter(Tensor(repeating: 1, shape: [features])) : nil
        bias = affine ? Parameter(Tensor(zeros: [features])) : nil
        runningMean = Buffer(.float32(Tensor(zeros: [features])))
        runningVariance = Buffer(.float32(Tensor(repeating: 1, shape: [features])))
        batchesTracked = Buffer(.int64(0))
        super.init()
        if let weight { register(weight, as: "weight") }
        if let bias { register(bias, as: "bias") }
        register(runningMean, as: "running_mean")
        register(runningVariance, as: "running_var")
        register(batchesTracked, as: "num_batches_tracked")
    }

    public override func forward(_ x: Tensor) throws -> Tensor { try forward(x, thenLeakyReLU: nil) }

    /// This layer followed by `leakyRelu(slope)` (0: ReLU), as `Sequential` runs a BatchNorm and the ReLU or
    /// LeakyReLU after it: in training one pass over the batch for both (`batchNorm`'s `activationSlope`).
    public func forward(_ x: Tensor, thenLeakyReLU slope: Float?) throws -> Tensor {
        guard ranks.contains(x.rank), x.shape[1] == features else {
            throw TensorError.shapeMismatch(
                operation: "\(type(of: self))(\(features))",
                detail: "expected \(features) channels, got input \(describe(x.shape))")
        }
        guard isTraining else {
            lastStatistics = nil  // an evaluation pass is not one a repeat could stand for
            let y = try evaluationForward(x)
            return slope.map { y.leakyRelu(slope: $0) } ?? y
        }
        return try trainingForward(x, activationSlope: slope)
    }

    private func trainingForward(_ x: Tensor, activationSlope: Float?) throws -> Tensor {
        let (y, statistics) = try batchNorm(
            x, weight: weight?.value, bias: bias?.value, epsilon: epsilon, activationSlope: activationSlope,
            completeSums: reducer.map { $0.sum })
        lastStatistics = (statistics.mean, statistics.unbiasedVariance)
        try updateRunningStatistics()
        return y
    }

    /// The last training pass's batch mean and unbiased variance `(C)`, kept for `repeatTrainingState()`.
    private var lastStatistics: (mean: [Double], unbiasedVariance: [Double])?

    /// running ← (1 − momentum)·running + momentum·batch, with the last batch's unbiased variance.
    /// (C values each, updated on the host: the statistics are there already)
    private func updateRunningStatistics() throws {
        guard let (batchMean, unbiased) = lastStatistics else { return }
        var (mean, variance) = (runningMean.tensor.scalars, runningVariance.tensor.scalars)
        for c in 0..<features {
            mean[c] = (1 - momentum) * mean[c] + momentum * Float(batchMean[c])
            variance[c] = (1 - momentum) * variance[c] + momentum * Float(unbiased[c])
        }
        try runningMean.tensor.assign(mean)
        try runningVariance.tensor.assign(variance)
        if case let .int64(n) = batchesTracked.value { batchesTracked.value = .int64(n + 1) }
    }

    /// A second pass over the same batch gives the same statistics, and the running statistics take them
    /// again. Before any training pass, or after an evaluation pass, there is nothing to repeat.
    public override func repeatTrainingState() throws { try updateRunningStatistics() }

    /// With fixed statistics batch norm is a per-channel affine map, built from differentiable operations
    /// (so an evaluation-mode critic supports second derivatives).
    private func evaluationForward(_ x: Tensor) throws -> Tensor {
        let inverseStd = try Tensor(
            runningVariance.tensor.scalars.map { 1 / ($0 + epsilon).squareRoot() }, shape: [features],
            backend: x.backend)
        let scale = try weight.map { try multiply($0.value, inverseStd) } ?? inverseStd
        let meanTimesScale = try multiply(runningMean.tensor, scale)
        let shift = try bias.map { try subtract($0.value, meanTimesScale) } ?? meanTimesScale.negated()
        return try addChannels(multiplyChannels(x, scale), shift)
    }
}

/// Batch norm over `(N, C)` (or `(N, C, L)`) inputs.
public final class BatchNorm1d: BatchNorm {
    public init(_ features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        super.init(features: features, epsilon: epsilon, momentum: momentum, affine: affine, ranks: [2, 3])
    }
}

/// Batch norm over `(N, C, H, W)` inputs.
public final class BatchNorm2d: BatchNorm {
    public init(_ features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        super.init(features: features, epsilon: epsilon, momentum: momentum, affine: affine, ranks: [4])
    }
}
