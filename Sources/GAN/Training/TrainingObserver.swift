import NN

// What training tells its observers: values, never the trainer. Counters count completed work (`step` is the
// number of steps done); epochs in reports are numbered from 1, the epoch a step or report belongs to.

/// What a run is about to do.
public struct TrainingStart {
    public let config: TrainingConfig
    public let imageCount: Int
    public let dataSource: String
    public let device: Device
    /// Steps already done (a resumed run starts after them) and the step the run ends at.
    public let step: Int
    public let totalSteps: Int
    public let batchesPerEpoch: Int
}

/// Where a run stands after a step.
public struct TrainingProgress {
    /// Steps done.
    public let step: Int
    public let totalSteps: Int
    /// The epoch the last step belonged to, from 1, of `epochs`.
    public let epoch: Int
    public let epochs: Int
    public let batchSize: Int
    public let generatorLearningRate: Float
    public let discriminatorLearningRate: Float
}

/// The fixed-noise samples of the grid: `(count, 1, H, W)` in [−1, 1] on the host, and their labels
/// (i mod classes) for conditional models.
public struct SampleGrid {
    public let images: Tensor
    public let labels: [Int]?
}

/// What the end of an epoch produced. The artifacts (grid, evaluation, checkpoint) are made only for
/// observers that want them, when the config's schedule says so.
public struct EpochReport {
    /// The epoch just finished, from 1.
    public let epoch: Int
    public let epochs: Int
    /// Steps done.
    public let step: Int
    /// D's and G's mean losses on the test split (`logging.evaluate_test_split`).
    public let testLosses: (discriminator: Float, generator: Float)?
    public let grid: SampleGrid?
    /// Sample quality, every `logging.evaluate_every` epochs when the trainer has an evaluator.
    public let evaluation: Evaluator.Report?
    /// A checkpoint to write, every `logging.checkpoint_every` epochs.
    public let checkpoint: SafeTensors.File?
}

/// What the end of a run produced: a grid when it ended within an epoch, and the final checkpoint unless the
/// last epoch's report already carried this step's.
public struct FinishReport {
    public let step: Int
    public let grid: SampleGrid?
    public let checkpoint: SafeTensors.File?
}

/// Receives what training produces; the run directory (rank 0) implements it. Every method has an empty
/// default, so an observer implements what it uses.
public protocol TrainingObserver: AnyObject {
    /// Whether the trainer should make grids, evaluations and checkpoints for this observer.
    var wantsArtifacts: Bool { get }
    func trainingStarted(_ start: TrainingStart) throws
    func stepFinished(_ metrics: StepMetrics, progress: TrainingProgress) throws
    func epochFinished(_ report: EpochReport) throws
    func trainingFinished(_ report: FinishReport) throws
}

extension TrainingObserver {
    public var wantsArtifacts: Bool { false }
    public func trainingStarted(_ start: TrainingStart) throws {}
    public func stepFinished(_ metrics: StepMetrics, progress: TrainingProgress) throws {}
    public func epochFinished(_ report: EpochReport) throws {}
    public func trainingFinished(_ report: FinishReport) throws {}
}
