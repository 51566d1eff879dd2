import Foundation
import NN

/// What one logged training step measured.
public struct StepMetrics: Equatable {
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
}

/// Receives what training produces; the run directory (rank 0) implements it.
public protocol TrainingObserver: AnyObject {
    func trainingStarted(_ trainer: Trainer) throws
    func stepFinished(_ trainer: Trainer, metrics: StepMetrics) throws
    func epochFinished(_ trainer: Trainer, epoch: Int, testLosses: (discriminator: Float, generator: Float)?) throws
    func trainingFinished(_ trainer: Trainer) throws
}

/// One loop for every GAN family: a discriminator step and, on the schedule, a generator step per batch.
public final class Trainer {
    public let config: TrainingConfig
    public let models: GANModels
    public let dataset: ImageDataset
    public let testSet: ImageDataset?
    public let random: SampleRandom
    /// Batches trained so far: the step counter every random draw is keyed by.
    public internal(set) var step = 0
    public var observers: [TrainingObserver] = []
    /// Set to stop at the next step boundary (as SIGINT and SIGTERM do through `StopSignal`).
    public var stopRequested = false
    var shouldStop: Bool { stopRequested || StopSignal.received }

    public init(config: TrainingConfig, dataset: ImageDataset, testSet: ImageDataset? = nil, models: GANModels? = nil) throws {
        guard dataset.count >= config.training.batchSize else {
            throw ConfigError(file: "config", keyPath: "training.batch_size",
                              message: "\(config.training.batchSize) is more than the \(dataset.count) images of \(dataset.source)")
        }
        self.config = config
        self.models = try models ?? GANModels(config)
        self.dataset = dataset
        self.testSet = testSet
        random = SampleRandom(seed: UInt64(config.seed))
    }

    public var batchSize: Int { config.training.batchSize }
    /// Full batches per epoch (the last partial batch is dropped, as the seeds' drop_last does).
    public var batchesPerEpoch: Int { dataset.count / batchSize }
    public var totalSteps: Int {
        let all = config.training.epochs * batchesPerEpoch
        return config.training.maxSteps > 0 ? min(all, config.training.maxSteps) : all
    }
    /// The epoch the next step belongs to (0-based).
    public var epoch: Int { step / batchesPerEpoch }
    /// The epoch the last finished step belonged to (0-based): what progress reports show.
    public var epochOfLastStep: Int { max(step - 1, 0) / batchesPerEpoch }

    // MARK: - The loop

    /// Trains from the current step to the end of the last epoch (or `maxSteps`).
    public func run() throws {
        for observer in observers { try observer.trainingStarted(self) }
        while step < totalSteps, !shouldStop {
            let epoch = self.epoch
            let order = random.permutation(count: dataset.count, epoch: epoch)
            var batchInEpoch = step - epoch * batchesPerEpoch
            while batchInEpoch < batchesPerEpoch, step < totalSteps, !shouldStop {
                let indices = order[(batchInEpoch * batchSize)..<((batchInEpoch + 1) * batchSize)]
                let metrics = try trainStep(indices: indices, batchInEpoch: batchInEpoch)
                step += 1
                batchInEpoch += 1
                for observer in observers { try observer.stepFinished(self, metrics: metrics) }
            }
            if batchInEpoch == batchesPerEpoch {
                let test = config.logging.evaluateTestSplit ? try testLosses() : nil
                for observer in observers { try observer.epochFinished(self, epoch: epoch, testLosses: test) }
            }
        }
        for observer in observers { try observer.trainingFinished(self) }
    }

    /// One batch: the discriminator step (every `discriminatorEvery` batches) and the generator step
    /// (every `criticSteps` batches), as the seeds order them.
    public func trainStep<C: Collection>(indices: C, batchInEpoch: Int) throws -> StepMetrics where C.Element == Int {
        let (g, d) = (models.generator, models.discriminator)
        g.train()
        d.train()
        let samples = 0..<batchSize
        let (real, realLabels) = dataset.batch(indices, range: config.data.range)
        let conditional = config.model.classes > 0
        let fakeLabels = conditional ? try labels(.fakeLabels, realLabels: realLabels) : nil
        let z = random.noise(.noise, step: step, samples: samples, size: config.model.noiseSize)
        let fake = try g.forward(z, labels: fakeLabels)
        var metrics = StepMetrics(epoch: epoch, step: step + 1)

        if batchInEpoch % config.schedule.discriminatorEvery == 0 {
            try discriminatorStep(real: real, realLabels: conditional ? realLabels : nil, fake: fake.detached(),
                                  fakeLabels: fakeLabels, metrics: &metrics)
        }
        if batchInEpoch % config.schedule.criticSteps == 0 {
            var generated = fake, labels = fakeLabels
            switch config.schedule.generatorFakes {
            case "regenerate": generated = try g.forward(z, labels: fakeLabels)
            case "fresh":
                labels = conditional ? try self.labels(.generatorLabels, realLabels: realLabels) : nil
                generated = try g.forward(random.noise(.generatorNoise, step: step, samples: samples, size: config.model.noiseSize), labels: labels)
            default: break
            }
            try generatorStep(fake: generated, labels: labels, metrics: &metrics)
        }
        return metrics
    }

    /// Labels for conditional fakes: uniform draws keyed by (step, sample), or the real batch's.
    func labels(_ stream: SampleRandom.Stream, realLabels: [Int]) throws -> [Int] {
        config.schedule.fakeLabels == "batch"
            ? realLabels
            : (0..<batchSize).map { random.label(stream, step: step, sample: $0, classes: config.model.classes) }
    }

    func discriminatorStep(real: Tensor, realLabels: [Int]?, fake: Tensor, fakeLabels: [Int]?, metrics: inout StepMetrics) throws {
        let d = models.discriminator
        let realScores = try d.forward(real, labels: realLabels)
        let fakeScores = try d.forward(fake, labels: fakeLabels)
        var loss = try discriminatorLoss(real: realScores, fake: fakeScores)
        if config.loss.gradientPenalty > 0 {
            let penalty = try GANLoss.gradientPenalty(
                critic: { try d.forward($0, labels: realLabels) }, interpolates: interpolate(real, fake), weight: config.loss.gradientPenalty)
            metrics.gradientPenalty = penalty.item
            loss = try add(loss, penalty)
        }
        models.discriminatorArena.zeroGradients()
        try loss.backward()
        metrics.discriminatorGradientNorm = models.discriminatorArena.gradientNorm
        models.discriminatorOptimizer.step()
        if config.loss.clip > 0 { models.discriminatorArena.clamp(to: -config.loss.clip...config.loss.clip) }
        metrics.discriminatorLoss = loss.item
        metrics.realScore = realScores.mean().item
        metrics.fakeScore = fakeScores.mean().item
    }

    func generatorStep(fake: Tensor, labels: [Int]?, metrics: inout StepMetrics) throws {
        let d = models.discriminator
        // D's weights are constants here: skipping their gradients saves a third of D's backward pass.
        models.discriminatorArena.setRequiresGrad(false)
        defer { models.discriminatorArena.setRequiresGrad(true) }
        let scores = try d.forward(fake, labels: labels)
        let loss = try generatorLoss(fake: scores)
        models.generatorArena.zeroGradients()
        try loss.backward()
        metrics.generatorGradientNorm = models.generatorArena.gradientNorm
        models.generatorOptimizer.step()
        metrics.generatorLoss = loss.item
    }

    // MARK: - Losses

    func discriminatorLoss(real: Tensor, fake: Tensor) throws -> Tensor {
        switch config.loss.kind {
        case .bce:
            let total = try add(
                binaryCrossEntropy(real, target: Tensor(repeating: 1, shape: real.shape)),
                binaryCrossEntropy(fake, target: Tensor(repeating: 0, shape: fake.shape)))
            return config.loss.discriminatorReduction == "mean" ? total.scaled(by: 0.5) : total
        case .hinge: return try GANLoss.hingeDiscriminator(real: real, fake: fake)
        case .wasserstein: return try GANLoss.wassersteinCritic(real: real, fake: fake)
        }
    }

    func generatorLoss(fake: Tensor) throws -> Tensor {
        switch config.loss.kind {
        case .bce: try binaryCrossEntropy(fake, target: Tensor(repeating: 1, shape: fake.shape))
        case .hinge: GANLoss.hingeGenerator(fake: fake)
        case .wasserstein: GANLoss.wassersteinGenerator(fake: fake)
        }
    }

    /// x̂ = α·x + (1 − α)·G(z) with α ~ U(0, 1) per sample.
    func interpolate(_ real: Tensor, _ fake: Tensor) -> Tensor {
        let result = Tensor(uninitialized: real.shape)
        let width = real.count / real.shape[0]
        for n in 0..<real.shape[0] {
            let alpha = random.uniform(.penaltyWeights, step: step, sample: n)
            for i in (n * width)..<((n + 1) * width) { result.pointer[i] = alpha * real.pointer[i] + (1 - alpha) * fake.pointer[i] }
        }
        return result
    }

    // MARK: - Evaluation

    /// D's and G's losses on the test split with both networks in evaluation mode and no updates (seed 000's
    /// `evaluate`), averaged over its full batches.
    public func testLosses() throws -> (discriminator: Float, generator: Float)? {
        guard let testSet, testSet.count >= batchSize else { return nil }
        let (g, d) = (models.generator, models.discriminator)
        g.eval()
        d.eval()
        defer { g.train(); d.train() }
        return try GradientMode.withoutGradients {
            var totals = (0.0, 0.0)
            let batches = testSet.count / batchSize
            for batch in 0..<batches {
                let samples = (batch * batchSize)..<((batch + 1) * batchSize)
                let (real, realLabels) = testSet.batch(samples, range: config.data.range)
                let conditional = config.model.classes > 0
                let labels = conditional ? samples.map { random.label(.fakeLabels, step: -1 - epoch, sample: $0, classes: config.model.classes) } : nil
                let fake = try g.forward(random.noise(.noise, step: -1 - epoch, samples: samples, size: config.model.noiseSize), labels: labels)
                let fakeScores = try d.forward(fake, labels: labels)
                totals.0 += Double(try discriminatorLoss(real: d.forward(real, labels: conditional ? realLabels : nil), fake: fakeScores).item)
                totals.1 += Double(try generatorLoss(fake: fakeScores).item)
            }
            return (Float(totals.0 / Double(batches)), Float(totals.1 / Double(batches)))
        }
    }

    /// The fixed-noise samples of the grid, generated in evaluation mode: `(count, 1, H, W)` in [−1, 1], and
    /// their labels (i mod classes) for conditional models.
    public func fixedSamples(count: Int) throws -> (images: Tensor, labels: [Int]?) {
        let g = models.generator
        g.eval()
        defer { g.train() }
        let labels = config.model.classes > 0 ? (0..<count).map { $0 % config.model.classes } : nil
        let z = random.noise(.fixedNoise, step: 0, samples: 0..<count, size: config.model.noiseSize)
        return (try GradientMode.withoutGradients { try g.forward(z, labels: labels) }, labels)
    }
}
