import Foundation
import Yams

/// Everything a training run needs, read from a YAML file (see `Configs/`). Every key has a default, so a
/// config names only what differs; `yaml` writes the resolved whole back out.
public struct TrainingConfig: Equatable {
    public struct DataSettings: Equatable {
        /// `mnist` or `fashion-mnist`.
        public var dataset = "mnist"
        /// Folder of IDX files; empty means the shipped default (`Data/mnist`).
        public var directory = ""
        public var imageSize = 28
        public var range = ImageDataset.ValueRange.symmetric
    }

    public struct ModelSettings: Equatable {
        public var architecture = ModelZoo.Architecture.gan
        public var noiseSize = 100
        /// 10 for a conditional model (cgan, sngan), 0 otherwise.
        public var classes = 0
        public var batchNormEpsilon: Float = 0.8
        public var discriminatorSigmoid = true
        public var discriminatorBatchNorm = true
        /// `pytorch` (the layers' defaults), `dcgan-normal` (seed 004) or `dcgan64-normal` (seed 002).
        public var initialization = "pytorch"
    }

    public enum LossKind: String, Equatable { case bce, hinge, wasserstein }

    public struct LossSettings: Equatable {
        public var kind = LossKind.bce
        /// How D's real and fake terms combine: `sum` (seed 004) or `mean` (seed 001).
        public var discriminatorReduction = "sum"
        /// Weight of WGAN-GP's penalty; 0 for none.
        public var gradientPenalty: Float = 0
        /// WGAN's weight clipping bound; 0 for none.
        public var clip: Float = 0
    }

    public struct ScheduleSettings: Equatable {
        /// A generator step on every `criticSteps`-th discriminator step (WGAN's n_critic).
        public var criticSteps = 1
        /// A discriminator step on every `discriminatorEvery`-th batch (seed 000 uses 100).
        public var discriminatorEvery = 1
        /// The generator step's fakes: `reuse` the discriminator step's (seeds 004, 002, 000), `regenerate`
        /// them from the same noise (seed 001), or draw `fresh` noise (seed 003, WGAN-GP).
        public var generatorFakes = "reuse"
        /// Labels of conditional fakes: `uniform` over the classes (seed 004's cGAN) or the real `batch`'s (seed 000).
        public var fakeLabels = "uniform"
    }

    public struct OptimizerSettings: Equatable {
        public var kind = "adam"
        public var learningRate: Float = 2e-4
        public var betas: [Float] = [0.5, 0.999]
        /// RMSprop's smoothing constant.
        public var alpha: Float = 0.99
        public var epsilon: Float = 1e-8
    }

    public struct TrainingSettings: Equatable {
        public var batchSize = 64
        public var epochs = 1
        /// Stop after this many batches in all (0: no limit).
        public var maxSteps = 0
    }

    public struct LoggingSettings: Equatable {
        /// Steps between log lines, metrics records and TensorBoard scalars.
        public var logEvery = 50
        /// Epochs between checkpoints (a checkpoint is also written at the end).
        public var checkpointEvery = 1
        public var keepCheckpoints = 3
        public var gridSamples = 100
        /// Images per row of the grid (the config key `grid_rows`, after torchvision's `make_grid(nrow=...)`,
        /// which also counts the images in a row).
        public var imagesPerRow = 10
        /// Log D and G losses on the test split after each epoch (seed 000 does).
        public var evaluateTestSplit = true
        /// Epochs between sample-quality evaluations (FID, KID, IS, label accuracy; 0: none) and their sample count.
        public var evaluateEvery = 0
        public var evaluationSamples = 2000
        /// The evaluator's classifier weights (`swiftgan train-classifier`).
        public var classifier = "Data/classifiers/mnist-lenet.safetensors"
    }

    public struct RuntimeSettings: Equatable {
        /// Where training runs: `cpu`, `cuda` or `cuda:N`. Under mpirun each rank takes a GPU of its own
        /// (its node-local rank modulo the GPU count) when this is `cuda`.
        public var device = Device.cpu
    }

    public var name = "gan"
    public var seed = 0
    public var data = DataSettings()
    public var model = ModelSettings()
    public var loss = LossSettings()
    public var schedule = ScheduleSettings()
    public var generatorOptimizer = OptimizerSettings()
    public var discriminatorOptimizer = OptimizerSettings()
    public var training = TrainingSettings()
    public var logging = LoggingSettings()
    public var runtime = RuntimeSettings()

    public init() {}

    // MARK: - Reading

    /// Reads `url`, applies `overrides` (`key.path=value`), and checks every key and value.
    public static func load(_ url: URL, overrides: [String] = []) throws -> TrainingConfig {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError(file: url.path, keyPath: "", message: "cannot read the file (\((error as NSError).localizedDescription))")
        }
        return try parse(text, file: url.path, overrides: overrides)
    }

    public static func parse(_ text: String, file: String, overrides: [String] = []) throws -> TrainingConfig {
        let root: Yams.Node
        do { root = try Yams.compose(yaml: text) ?? Yams.Node.mapping(Yams.Node.Mapping([])) } catch {
            throw ConfigError(file: file, keyPath: "", message: "not valid YAML: \(error)")
        }
        let resolved = try ConfigOverrides.apply(overrides, to: root, file: file)
        return try TrainingConfig(ConfigReader(resolved, file: file))
    }

    init(_ r: ConfigReader) throws {
        name = try r.string("name", default: name)
        seed = try r.int("seed", default: seed, in: 0...Int(UInt32.max))
        if let d = try r.section("data") {
            data.dataset = try d.string("dataset", default: data.dataset, allowed: ["mnist", "fashion-mnist"])
            data.directory = try d.string("directory", default: data.directory)
            data.imageSize = try d.int("image_size", default: data.imageSize, in: 8...256)
            let range = try d.floats("range", default: data.range == .symmetric ? [-1, 1] : [0, 1], count: 2)
            switch range {
            case [-1, 1]: data.range = .symmetric
            case [0, 1]: data.range = .unit
            default: throw d.error("range", "expected [-1, 1] or [0, 1], got \(range)")
            }
            try d.finish()
        }
        if let m = try r.section("model") {
            let names = ModelZoo.Architecture.allCases.map(\.rawValue)
            model.architecture = ModelZoo.Architecture(rawValue: try m.string("architecture", default: model.architecture.rawValue, allowed: names))!
            model.noiseSize = try m.int("noise_size", default: model.noiseSize, in: 1...4096)
            model.classes = try m.int("classes", default: model.classes, in: 0...1000)
            model.batchNormEpsilon = try m.float("batch_norm_epsilon", default: model.batchNormEpsilon, in: 0...10)
            model.discriminatorSigmoid = try m.bool("discriminator_sigmoid", default: model.discriminatorSigmoid)
            model.discriminatorBatchNorm = try m.bool("discriminator_batch_norm", default: model.discriminatorBatchNorm)
            model.initialization = try m.string("initialization", default: model.initialization, allowed: ["pytorch", "dcgan-normal", "dcgan64-normal"])
            try m.finish()
        }
        if let l = try r.section("loss") {
            loss.kind = LossKind(rawValue: try l.string("kind", default: loss.kind.rawValue, allowed: ["bce", "hinge", "wasserstein"]))!
            loss.discriminatorReduction = try l.string("discriminator_reduction", default: loss.discriminatorReduction, allowed: ["sum", "mean"])
            loss.gradientPenalty = try l.float("gradient_penalty", default: loss.gradientPenalty, in: 0...1e6)
            loss.clip = try l.float("clip", default: loss.clip, in: 0...1e6)
            try l.finish()
        }
        if let s = try r.section("schedule") {
            schedule.criticSteps = try s.int("critic_steps", default: schedule.criticSteps, in: 1...1000)
            schedule.discriminatorEvery = try s.int("discriminator_every", default: schedule.discriminatorEvery, in: 1...100_000)
            schedule.generatorFakes = try s.string("generator_fakes", default: schedule.generatorFakes, allowed: ["reuse", "regenerate", "fresh"])
            schedule.fakeLabels = try s.string("fake_labels", default: schedule.fakeLabels, allowed: ["uniform", "batch"])
            try s.finish()
        }
        if let o = try r.section("optimizer") {
            if let g = try o.section("generator") { generatorOptimizer = try Self.optimizer(g, default: generatorOptimizer) }
            if let d = try o.section("discriminator") { discriminatorOptimizer = try Self.optimizer(d, default: discriminatorOptimizer) }
            try o.finish()
        }
        if let t = try r.section("training") {
            training.batchSize = try t.int("batch_size", default: training.batchSize, in: 2...65536)
            training.epochs = try t.int("epochs", default: training.epochs, in: 1...100_000)
            training.maxSteps = try t.int("max_steps", default: training.maxSteps)
            try t.finish()
        }
        if let g = try r.section("logging") {
            logging.logEvery = try g.int("log_every", default: logging.logEvery, in: 1...1_000_000)
            logging.checkpointEvery = try g.int("checkpoint_every", default: logging.checkpointEvery, in: 1...100_000)
            logging.keepCheckpoints = try g.int("keep_checkpoints", default: logging.keepCheckpoints, in: 1...1000)
            logging.gridSamples = try g.int("grid_samples", default: logging.gridSamples, in: 1...1024)
            logging.imagesPerRow = try g.int("grid_rows", default: logging.imagesPerRow, in: 1...64)
            logging.evaluateTestSplit = try g.bool("evaluate_test_split", default: logging.evaluateTestSplit)
            logging.evaluateEvery = try g.int("evaluate_every", default: logging.evaluateEvery, in: 0...100_000)
            logging.evaluationSamples = try g.int("evaluation_samples", default: logging.evaluationSamples, in: 2...1_000_000)
            logging.classifier = try g.string("classifier", default: logging.classifier)
            try g.finish()
        }
        if let u = try r.section("runtime") {
            let text = try u.string("device", default: runtime.device.description)
            do { runtime.device = try Device(parsing: text) } catch { throw u.error("device", "'\(text)' is not a device: use cpu, cuda or cuda:N") }
            try u.finish()
        }
        try r.finish()
        try validate(r)
    }

    private static func optimizer(_ o: ConfigReader, default fallback: OptimizerSettings) throws -> OptimizerSettings {
        var settings = fallback
        settings.kind = try o.string("kind", default: settings.kind, allowed: ["adam", "rmsprop", "sgd"])
        settings.learningRate = try o.float("learning_rate", default: settings.learningRate, in: 0...10)
        settings.betas = try o.floats("betas", default: settings.betas, count: 2)
        if settings.betas.contains(where: { !(0..<1).contains($0) }) { throw o.error("betas", "each beta must be in [0, 1)") }
        settings.alpha = try o.float("alpha", default: settings.alpha, in: 0...1)
        settings.epsilon = try o.float("epsilon", default: settings.epsilon, in: 0...1)
        try o.finish()
        return settings
    }

    /// Rules that join several keys.
    private func validate(_ r: ConfigReader) throws {
        if model.architecture == .sngan, model.classes == 0 {
            throw r.error("model.classes", "sngan's projection discriminator is conditional: set classes (10 for digits)")
        }
        if model.classes > 0, ![.gan, .sngan].contains(model.architecture) {
            throw r.error("model.classes", "\(model.architecture.rawValue) is unconditional; only gan and sngan take classes")
        }
        if loss.gradientPenalty > 0, model.discriminatorBatchNorm, [.dcgan, .dcgan28, .dcgan64].contains(model.architecture) {
            throw r.error("loss.gradient_penalty", "a gradient penalty needs a critic without batch norm (model.discriminator_batch_norm: false)")
        }
        if loss.kind == .bce, !model.discriminatorSigmoid {
            throw r.error("loss.kind", "bce needs probabilities: set model.discriminator_sigmoid: true")
        }
        if loss.kind != .bce, model.discriminatorSigmoid, model.architecture != .sngan {
            throw r.error("model.discriminator_sigmoid", "a \(loss.kind.rawValue) critic outputs scores, not probabilities: set it to false")
        }
        let expected = ModelZoo.imageSize(model.architecture)
        if data.imageSize != expected {
            throw r.error("data.image_size", "\(model.architecture.rawValue) works on \(expected)x\(expected) images, not \(data.imageSize)")
        }
    }

    // MARK: - Writing

    /// The resolved config as YAML, every key present: what `runs/NAME/config.yaml` holds.
    public var yaml: String {
        func optimizer(_ o: OptimizerSettings) -> String {
            "{kind: \(o.kind), learning_rate: \(o.learningRate), betas: [\(o.betas[0]), \(o.betas[1])], alpha: \(o.alpha), epsilon: \(o.epsilon)}"
        }
        return """
            name: \(name)
            seed: \(seed)
            data:
              dataset: \(data.dataset)
              directory: "\(data.directory)"
              image_size: \(data.imageSize)
              range: \(data.range.rawValue)
            model:
              architecture: \(model.architecture.rawValue)
              noise_size: \(model.noiseSize)
              classes: \(model.classes)
              batch_norm_epsilon: \(model.batchNormEpsilon)
              discriminator_sigmoid: \(model.discriminatorSigmoid)
              discriminator_batch_norm: \(model.discriminatorBatchNorm)
              initialization: \(model.initialization)
            loss:
              kind: \(loss.kind.rawValue)
              discriminator_reduction: \(loss.discriminatorReduction)
              gradient_penalty: \(loss.gradientPenalty)
              clip: \(loss.clip)
            schedule:
              critic_steps: \(schedule.criticSteps)
              discriminator_every: \(schedule.discriminatorEvery)
              generator_fakes: \(schedule.generatorFakes)
              fake_labels: \(schedule.fakeLabels)
            optimizer:
              generator: \(optimizer(generatorOptimizer))
              discriminator: \(optimizer(discriminatorOptimizer))
            training:
              batch_size: \(training.batchSize)
              epochs: \(training.epochs)
              max_steps: \(training.maxSteps)
            logging:
              log_every: \(logging.logEvery)
              checkpoint_every: \(logging.checkpointEvery)
              keep_checkpoints: \(logging.keepCheckpoints)
              grid_samples: \(logging.gridSamples)
              grid_rows: \(logging.imagesPerRow)
              evaluate_test_split: \(logging.evaluateTestSplit)
              evaluate_every: \(logging.evaluateEvery)
              evaluation_samples: \(logging.evaluationSamples)
              classifier: "\(logging.classifier)"
            runtime:
              device: \(runtime.device)

            """
    }
}
