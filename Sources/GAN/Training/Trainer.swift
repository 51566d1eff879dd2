import Distributed
import Foundation
import NN

/// What one logged training step measured.
public struct StepMetrics: Equatable {
    /// The epoch this step belongs to, from 1, and the steps done once it completes.
    public var epoch: Int
    public var step: Int
    public var discriminatorLoss: Float?
    public var generatorLoss: Float?
    /// Mean D(x) and D(G(z)): probabilities for BCE models, scores for critics.
    public var realScore: Float?
    public var fakeScore: Float?
    public var gradientPenalty: Float?
    public var discriminatorGradientNorm: Double?
    public var generatorGradientNorm: Double?
    /// Wall time of the step on this rank, and on the slowest rank.
    public var stepSeconds = 0.0
    public var slowestStepSeconds = 0.0
    /// Of the step: waiting for gradient allreduces, and in batch-norm statistic reductions.
    public var allreduceSeconds = 0.0
    public var syncBatchNormSeconds = 0.0
    /// Of the step: waiting for the batch (assembled in the background during the step before).
    public var dataWaitSeconds = 0.0
    /// This rank's own times (the fields above are means over the ranks once the ranks have agreed).
    public var thisRank = RankTimes()
}

/// One rank's share of a step, for `swiftgan bench --timeline`.
public struct RankTimes: Equatable {
    public var stepSeconds = 0.0, allreduceSeconds = 0.0, syncBatchNormSeconds = 0.0, dataWaitSeconds = 0.0
    /// Batch-norm statistic reductions in the step (two per batch-norm layer and forward pass with SyncBN).
    public var syncBatchNormCollectives = 0
    /// What is left: forward, backward, optimiser and everything else this rank computes alone.
    public var computeSeconds: Double { stepSeconds - allreduceSeconds - syncBatchNormSeconds - dataWaitSeconds }
}

/// One loop for every GAN family: a discriminator step and, on the schedule, a generator step per batch. It
/// decides, from the config, when the test split is scored, grids drawn, samples evaluated and checkpoints
/// made, and hands the results to its observers.
public final class Trainer {
    public let config: TrainingConfig
    public let models: GANModels
    public let dataset: ImageDataset
    public let testSet: ImageDataset?
    public let random: SampleRandom
    /// Steps done: the counter every random draw is keyed by.
    public internal(set) var step = 0
    public var observers: [TrainingObserver] = []
    /// Scores samples every `logging.evaluate_every` epochs for observers that want artifacts (rank 0 alone:
    /// it makes no collectives).
    public var evaluator: Evaluator?
    /// The step of the last checkpoint handed to observers.
    private var checkpointStep: Int?
    /// Set to stop at the next step boundary (as SIGINT and SIGTERM do through `StopSignal`); with several
    /// ranks, a request on any rank stops all of them after the same step.
    public var stopRequested = false
    var shouldStop = false

    /// The ranks training together; `LocalCommunicator` for one process.
    public let communicator: Communicator
    /// Each network's data parallelism: replicas made identical, SyncBN, gradient averaging.
    let generatorParallel: DataParallel
    let discriminatorParallel: DataParallel
    /// Reproducible mode's fixed chunks of the global batch (`training.reproducible`); nil otherwise.
    let reproducible: ReproducibleBatch?
    /// Takes each batch from `dataset`, the next one prepared in the background.
    lazy var loader = BatchLoader(dataset: dataset, range: config.data.range)
    /// The batch after the one being trained, when the loop knows it: prefetched once a step has its own.
    var upcoming: BatchLoader.Request?

    /// - Parameter checkpoint: a checkpoint to continue from. Rank 0 reads it; the data-parallel setup then
    ///   copies its state to every other rank, so under several ranks a checkpoint must come in here rather
    ///   than through `Checkpoint.restore` afterwards.
    public init(
        config: TrainingConfig, dataset: ImageDataset, testSet: ImageDataset? = nil, models: GANModels? = nil,
        communicator: Communicator = LocalCommunicator(), overlap: Bool = true, resumingFrom checkpoint: URL? = nil
    ) throws {
        guard dataset.count >= config.training.batchSize else {
            throw ConfigError(
                file: nil, keyPath: "training.batch_size",
                message: "\(config.training.batchSize) is more than the \(dataset.count) images of \(dataset.source)")
        }
        if config.model.classes > 0, let largest = dataset.labels.max(), largest >= config.model.classes {
            throw ConfigError(
                file: nil, keyPath: "model.classes",
                message: "\(config.model.classes) classes, but \(dataset.source) has labels up to \(largest)")
        }
        guard config.training.batchSize % communicator.size == 0 else {
            throw ConfigError(
                file: nil, keyPath: "training.batch_size",
                message:
                    "the global batch of \(config.training.batchSize) does not split evenly over \(communicator.size) ranks"
            )
        }
        if config.training.reproducible {
            do {
                reproducible = try ReproducibleBatch(
                    globalBatch: config.training.batchSize, chunkCount: config.training.reproducibleChunks,
                    peers: communicator)
            } catch let error as TensorError {
                throw ConfigError(file: nil, keyPath: "training.reproducible_chunks", message: "\(error)")
            }
        } else {
            reproducible = nil
        }
        self.config = config
        let models = try models ?? GANModels(config)
        self.models = models
        self.dataset = dataset
        self.testSet = testSet
        self.communicator = communicator
        random = SampleRandom(seed: UInt64(config.seed))
        var step = 0
        if let checkpoint, communicator.isRoot { step = try Checkpoint.restore(models, from: checkpoint) }
        self.step = try communicator.broadcast(step)
        generatorParallel = try DataParallel(
            models.generator, arena: models.generatorArena, optimizer: models.generatorOptimizer,
            communicator: communicator, overlap: overlap, gradientsAreGlobal: reproducible != nil)
        discriminatorParallel = try DataParallel(
            models.discriminator, arena: models.discriminatorArena, optimizer: models.discriminatorOptimizer,
            communicator: communicator, overlap: overlap, gradientsAreGlobal: reproducible != nil)
    }

    /// Where the networks train (`runtime.device`).
    public var device: Device { models.device }

    /// The global batch (`training.batch_size`); each rank trains on `localBatchSize` of it.
    public var batchSize: Int { config.training.batchSize }
    public var localBatchSize: Int { batchSize / communicator.size }
    /// This rank's positions within each global batch: a contiguous slice.
    public var localSamples: Range<Int> {
        (communicator.rank * localBatchSize)..<((communicator.rank + 1) * localBatchSize)
    }
    /// Full batches per epoch (the last partial batch is dropped, as the seeds' drop_last does).
    public var batchesPerEpoch: Int { dataset.count / batchSize }
    public var totalSteps: Int {
        let all = config.training.epochs * batchesPerEpoch
        return config.training.maxSteps > 0 ? min(all, config.training.maxSteps) : all
    }
    /// Epochs done; also the 0-based index of the epoch the next step belongs to.
    public var completedEpochs: Int { step / batchesPerEpoch }

    // MARK: - The loop

    /// Trains from the current step to the end of the last epoch (or `maxSteps`).
    public func run() throws {
        let start = TrainingStart(
            config: config, imageCount: dataset.count, dataSource: dataset.source, device: device, step: step,
            totalSteps: totalSteps, batchesPerEpoch: batchesPerEpoch)
        for observer in observers { try observer.trainingStarted(start) }
        shouldStop = try ranksAgreeToStop()
        while step < totalSteps, !shouldStop {
            let epochIndex = completedEpochs
            let order = random.permutation(count: dataset.count, epoch: epochIndex)
            var batchInEpoch = step - epochIndex * batchesPerEpoch
            while batchInEpoch < batchesPerEpoch, step < totalSteps, !shouldStop {
                let started = DispatchTime.now().uptimeNanoseconds
                discriminatorParallel.resetTimers()
                generatorParallel.resetTimers()
                func mine(_ batch: Int) -> ArraySlice<Int> {
                    order[(batch * batchSize)..<((batch + 1) * batchSize)].dropFirst(localSamples.lowerBound)
                        .prefix(localBatchSize)
                }
                let hasNext = batchInEpoch + 1 < batchesPerEpoch && step + 1 < totalSteps
                upcoming = hasNext ? request(mine(batchInEpoch + 1), step: step + 1) : nil
                var metrics = try trainStep(indices: mine(batchInEpoch), batchInEpoch: batchInEpoch)
                try models.generatorArena.values.backend.synchronize()  // a GPU's queued work belongs to this step
                metrics.stepSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                metrics.allreduceSeconds = discriminatorParallel.allreduceSeconds + generatorParallel.allreduceSeconds
                metrics.syncBatchNormSeconds =
                    discriminatorParallel.syncBatchNormSeconds + generatorParallel.syncBatchNormSeconds
                metrics.dataWaitSeconds = loader.waitSeconds
                metrics.thisRank = RankTimes(
                    stepSeconds: metrics.stepSeconds, allreduceSeconds: metrics.allreduceSeconds,
                    syncBatchNormSeconds: metrics.syncBatchNormSeconds, dataWaitSeconds: metrics.dataWaitSeconds,
                    syncBatchNormCollectives: discriminatorParallel.syncBatchNormCollectives
                        + generatorParallel.syncBatchNormCollectives)
                step += 1
                batchInEpoch += 1
                metrics = try agree(on: metrics)
                let progress = self.progress
                for observer in observers { try observer.stepFinished(metrics, progress: progress) }
                shouldStop = try ranksAgreeToStop()
            }
            if batchInEpoch == batchesPerEpoch { try finishEpoch(epochIndex + 1) }
        }
        try finishTraining()
    }

    var progress: TrainingProgress {
        TrainingProgress(
            step: step, totalSteps: totalSteps, epoch: max(step - 1, 0) / batchesPerEpoch + 1,
            epochs: config.training.epochs,
            batchSize: batchSize, generatorLearningRate: models.generatorOptimizer.learningRate,
            discriminatorLearningRate: models.discriminatorOptimizer.learningRate)
    }

    /// Whether any observer wants grids, evaluations and checkpoints (rank 0's run directory does).
    private var makesArtifacts: Bool { observers.contains { $0.wantsArtifacts } }

    /// The end of epoch `epoch` (from 1): the test split's losses on every rank (they share its batches), then
    /// what the schedule asks for.
    private func finishEpoch(_ epoch: Int) throws {
        let test = config.logging.evaluateTestSplit ? try testLosses(afterEpoch: epoch) : nil
        var grid: SampleGrid?, evaluation: Evaluator.Report?, checkpoint: SafeTensors.File?
        if makesArtifacts {
            grid = try fixedSamples(count: config.logging.gridSamples)
            let every = config.logging.evaluateEvery
            if let evaluator, every > 0, epoch % every == 0 {
                evaluation = try evaluator.evaluate(
                    generator: models.generator, config: config, count: config.logging.evaluationSamples)
            }
            if epoch % config.logging.checkpointEvery == 0 { checkpoint = takeCheckpoint() }
        }
        let report = EpochReport(
            epoch: epoch, epochs: config.training.epochs, step: step, testLosses: test, grid: grid,
            evaluation: evaluation,
            checkpoint: checkpoint)
        for observer in observers { try observer.epochFinished(report) }
    }

    /// The end of the run: a grid when it ended within an epoch (max_steps, a signal), and a checkpoint of
    /// this step unless the last epoch's report carried one.
    private func finishTraining() throws {
        var grid: SampleGrid?, checkpoint: SafeTensors.File?
        if makesArtifacts {
            if step % batchesPerEpoch != 0 { grid = try fixedSamples(count: config.logging.gridSamples) }
            if checkpointStep != step { checkpoint = takeCheckpoint() }
        }
        let report = FinishReport(step: step, grid: grid, checkpoint: checkpoint)
        for observer in observers { try observer.trainingFinished(report) }
    }

    /// This trainer's state as a checkpoint file, remembering its step so the end of the run does not repeat it.
    private func takeCheckpoint() -> SafeTensors.File {
        checkpointStep = step
        return Checkpoint.file(of: state, config: config, worldSize: communicator.size)
    }

    /// The networks, optimisers and counters a checkpoint holds.
    public var state: TrainingState { TrainingState(models: models, step: step, completedEpochs: completedEpochs) }

    /// Whether to stop before the next step: asked by an observer, or by SIGINT/SIGTERM on any rank. Every
    /// rank gets the same answer, after everything in this step that could ask.
    func ranksAgreeToStop() throws -> Bool {
        let local = stopRequested || StopSignal.received
        guard communicator.size > 1 else { return local }
        return try communicator.allreduceMax(local ? 1 : 0) > 0
    }

    /// Every rank's step metrics become their means over the ranks, with the slowest rank's step time.
    func agree(on metrics: StepMetrics) throws -> StepMetrics {
        guard communicator.size > 1 else {
            var m = metrics
            m.slowestStepSeconds = m.stepSeconds
            return m
        }
        let values = [
            metrics.discriminatorLoss, metrics.generatorLoss, metrics.realScore, metrics.fakeScore,
            metrics.gradientPenalty,
        ]
        var sums =
            values.map { Double($0 ?? 0) } + [
                metrics.allreduceSeconds, metrics.syncBatchNormSeconds, metrics.dataWaitSeconds,
            ]
        try sums.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0.baseAddress!, count: $0.count) }
        let ranks = Double(communicator.size)
        var m = metrics
        func mean(_ index: Int) -> Float? { values[index] == nil ? nil : Float(sums[index] / ranks) }
        (m.discriminatorLoss, m.generatorLoss, m.realScore, m.fakeScore, m.gradientPenalty) = (
            mean(0), mean(1), mean(2), mean(3), mean(4)
        )
        m.allreduceSeconds = sums[5] / ranks
        m.syncBatchNormSeconds = sums[6] / ranks
        m.dataWaitSeconds = sums[7] / ranks
        m.slowestStepSeconds = try communicator.allreduceMax(metrics.stepSeconds)
        return m
    }

    /// The batch of this rank's images `indices` at `step`, with their flips (keyed by global sample).
    func request<C: Collection>(_ indices: C, step: Int) -> BatchLoader.Request where C.Element == Int {
        let flips = config.data.flip ? localSamples.map { random.uniform(.flips, step: step, sample: $0) < 0.5 } : nil
        return BatchLoader.Request(indices: Array(indices), flips: flips)
    }

    /// One batch: the discriminator step (every `discriminatorEvery` batches) and the generator step
    /// (every `criticSteps` batches), as the seeds order them.
    public func trainStep<C: Collection>(indices: C, batchInEpoch: Int) throws -> StepMetrics where C.Element == Int {
        guard let reproducible else { return try trainBatch(indices: indices, batchInEpoch: batchInEpoch) }
        return try reproducible.during { try trainBatch(indices: indices, batchInEpoch: batchInEpoch) }
    }

    /// `trainStep`'s work. Its batch tensors are marked as samples, which only reproducible mode looks at.
    private func trainBatch<C: Collection>(indices: C, batchInEpoch: Int) throws -> StepMetrics
    where C.Element == Int {
        let (g, d) = (models.generator, models.discriminator)
        g.train()
        d.train()
        let samples = localSamples  // positions within the global batch: they key every random draw
        let (hostReal, realLabels) = loader.take(request(indices, step: step))
        if let upcoming { loader.prefetch(upcoming) }
        let real = try hostReal.to(device).markingSamples()
        let conditional = config.model.classes > 0
        let fakeLabels = conditional ? try labels(.fakeLabels, realLabels: realLabels) : nil
        let z = try random.noise(.noise, step: step, samples: samples, size: config.model.noiseSize).to(device)
            .markingSamples()
        // The G step backpropagates through these fakes only when it runs this batch and does not draw its own
        // (`fresh`); otherwise their graph would be recorded for nothing.
        let generatorStepRuns = batchInEpoch % config.schedule.criticSteps == 0
        let fake =
            generatorStepRuns && config.schedule.generatorFakes != .fresh
            ? try g.forward(z, labels: fakeLabels)
            : try GradientMode.withoutGradients { try g.forward(z, labels: fakeLabels) }
        var metrics = StepMetrics(epoch: completedEpochs + 1, step: step + 1)  // the step this call completes

        if batchInEpoch % config.schedule.discriminatorEvery == 0 {
            try discriminatorStep(
                real: real, realLabels: conditional ? realLabels : nil, fake: fake.detached(),
                fakeLabels: fakeLabels, metrics: &metrics)
        }
        if generatorStepRuns {
            var generated = fake, labels = fakeLabels
            switch config.schedule.generatorFakes {
            case .regenerate:
                // G's weights have not moved since `fake`, so a second pass over z would give its values again.
                // Keep them and their graph, and apply the second pass's one other effect (batch norm's running
                // statistics) unless G's pass moves state of its own (spectral norm's power iteration).
                if g.repeatsTrainingForward {
                    try g.repeatTrainingState()
                } else {
                    generated = try g.forward(z, labels: fakeLabels)
                }
            case .fresh:
                labels = conditional ? try self.labels(.generatorLabels, realLabels: realLabels) : nil
                let noise = try random.noise(
                    .generatorNoise, step: step, samples: samples, size: config.model.noiseSize
                ).to(device).markingSamples()
                generated = try g.forward(noise, labels: labels)
            case .reuse: break
            }
            try generatorStep(fake: generated, labels: labels, metrics: &metrics)
        }
        return metrics
    }

    /// Labels for conditional fakes: uniform draws keyed by (step, sample), or the real batch's.
    func labels(_ stream: SampleRandom.Stream, realLabels: [Int]) throws -> [Int] {
        config.schedule.fakeLabels == .batch
            ? realLabels
            : localSamples.map { random.label(stream, step: step, sample: $0, classes: config.model.classes) }
    }

    func discriminatorStep(
        real: Tensor, realLabels: [Int]?, fake: Tensor, fakeLabels: [Int]?, metrics: inout StepMetrics
    ) throws {
        let d = models.discriminator
        let realScores = try d.forward(real, labels: realLabels)
        let fakeScores = try d.forward(fake, labels: fakeLabels)
        var loss = try discriminatorLoss(real: realScores, fake: fakeScores)
        if config.loss.gradientPenalty > 0 {
            let penalty = try GANLoss.gradientPenalty(
                critic: { try d.forward($0, labels: realLabels) }, interpolates: try interpolate(real, fake),
                weight: config.loss.gradientPenalty)
            metrics.gradientPenalty = penalty.item
            loss = try add(loss, penalty)
        }
        metrics.discriminatorGradientNorm = try update(loss, discriminatorParallel, models.discriminatorOptimizer)
        metrics.discriminatorLoss = loss.item
        metrics.realScore = try realScores.mean().item
        metrics.fakeScore = try fakeScores.mean().item
    }

    func generatorStep(fake: Tensor, labels: [Int]?, metrics: inout StepMetrics) throws {
        let d = models.discriminator
        // D's weights are constants here: skipping their gradients saves a third of D's backward pass.
        models.discriminatorArena.setRequiresGrad(false)
        defer { models.discriminatorArena.setRequiresGrad(true) }
        let scores = try d.forward(fake, labels: labels)
        let loss = try generatorLoss(fake: scores)
        metrics.generatorGradientNorm = try update(loss, generatorParallel, models.generatorOptimizer)
        metrics.generatorLoss = loss.item
    }

    /// One model's update: gradients averaged over the ranks, one optimiser step. Returns the gradient's norm.
    func update(_ loss: Tensor, _ parallel: DataParallel, _ optimizer: Optimizer) throws -> Double {
        try parallel.backward(loss)
        return optimizer.step()
    }

    // MARK: - Losses

    func discriminatorLoss(real: Tensor, fake: Tensor) throws -> Tensor {
        switch config.loss.kind {
        case .bce:
            let total = try add(
                binaryCrossEntropy(real, target: Tensor(repeating: 1, shape: real.shape, backend: real.backend)),
                binaryCrossEntropy(fake, target: Tensor(repeating: 0, shape: fake.shape, backend: fake.backend)))
            return config.loss.discriminatorReduction == .mean ? total.scaled(by: 0.5) : total
        case .hinge: return try GANLoss.hingeDiscriminator(real: real, fake: fake)
        case .wasserstein: return try GANLoss.wassersteinCritic(real: real, fake: fake)
        }
    }

    func generatorLoss(fake: Tensor) throws -> Tensor {
        switch config.loss.kind {
        case .bce: try binaryCrossEntropy(fake, target: Tensor(repeating: 1, shape: fake.shape, backend: fake.backend))
        case .hinge: try GANLoss.hingeGenerator(fake: fake)
        case .wasserstein: try GANLoss.wassersteinGenerator(fake: fake)
        }
    }

    /// x̂ = α·x + (1 − α)·G(z) with α ~ U(0, 1) per sample (keyed by the sample's global position).
    func interpolate(_ real: Tensor, _ fake: Tensor) throws -> Tensor {
        let alpha = (0..<real.shape[0]).map {
            random.uniform(.penaltyWeights, step: step, sample: localSamples.lowerBound + $0)
        }
        let (backend, shape) = (real.backend, [real.shape[0]])
        let realWeights = try Tensor(alpha, shape: shape, backend: backend).markingSamples().expandedPerSample(
            to: real.shape)
        let fakeWeights = try Tensor(alpha.map { 1 - $0 }, shape: shape, backend: backend).expandedPerSample(
            to: real.shape)
        return try add(multiply(realWeights, real), multiply(fakeWeights, fake.detached()))
    }

    // MARK: - Evaluation

    /// D's and G's losses on the test split with both networks in evaluation mode and no updates (seed 000's
    /// `evaluate`), averaged over its full batches; the ranks share the batches.
    public func testLosses(afterEpoch epoch: Int) throws -> (discriminator: Float, generator: Float)? {
        guard let testSet, testSet.count >= batchSize else { return nil }
        let (g, d) = (models.generator, models.discriminator)
        g.eval()
        d.eval()
        defer {
            g.train()
            d.train()
        }
        let batches = testSet.count / batchSize
        var totals = try GradientMode.withoutGradients {
            var totals = [0.0, 0.0]
            for batch in stride(from: communicator.rank, to: batches, by: communicator.size) {
                let samples = (batch * batchSize)..<((batch + 1) * batchSize)
                let (hostReal, realLabels) = testSet.batch(samples, range: config.data.range)
                let real = try hostReal.to(device)
                let conditional = config.model.classes > 0
                let key = SampleRandom.Key.testSplit(afterEpoch: epoch)
                let labels =
                    conditional
                    ? samples.map { random.label(.fakeLabels, step: key, sample: $0, classes: config.model.classes) }
                    : nil
                let fake = try g.forward(
                    random.noise(.noise, step: key, samples: samples, size: config.model.noiseSize).to(device),
                    labels: labels)
                let fakeScores = try d.forward(fake, labels: labels)
                totals[0] += Double(
                    try discriminatorLoss(
                        real: d.forward(real, labels: conditional ? realLabels : nil), fake: fakeScores
                    ).item)
                totals[1] += Double(try generatorLoss(fake: fakeScores).item)
            }
            return totals
        }
        try totals.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0.baseAddress!, count: 2) }
        return (Float(totals[0] / Double(batches)), Float(totals[1] / Double(batches)))
    }

    /// The fixed-noise samples of the grid, generated in evaluation mode.
    public func fixedSamples(count: Int) throws -> SampleGrid {
        let g = models.generator
        g.eval()
        defer { g.train() }
        let labels = config.model.classes > 0 ? (0..<count).map { $0 % config.model.classes } : nil
        let z = try random.noise(
            .fixedNoise, step: SampleRandom.Key.grid, samples: 0..<count, size: config.model.noiseSize
        ).to(device)
        return SampleGrid(
            images: try GradientMode.withoutGradients { try g.forward(z, labels: labels) }.to(.cpu), labels: labels)
    }
}
