import Foundation
import Yams

/// Everything a training run needs, read from a YAML file (see `Configs/`). Every key has a default, so a
/// config names only what differs; `yaml` writes the resolved whole back out.
public struct TrainingConfig: Equatable {
    // The choices a key offers: each spelt in the file as its raw value. `ConfigKeys.swift` lists every key once.
    public enum Dataset: String, CaseIterable { case mnist, fashionMNIST = "fashion-mnist" }
    /// How the data folder is read: `idx` files, a `folder` of images, or `auto` (IDX files when it has them).
    public enum DataFormat: String, CaseIterable { case auto, idx, folder }
    public enum Initialization: String, CaseIterable {
        case pytorch, dcganNormal = "dcgan-normal", dcgan64Normal = "dcgan64-normal"
    }
    public enum LossKind: String, CaseIterable { case bce, hinge, wasserstein }
    public enum Reduction: String, CaseIterable { case sum, mean }
    public enum GeneratorFakes: String, CaseIterable { case reuse, regenerate, fresh }
    public enum FakeLabels: String, CaseIterable { case uniform, batch }
    public enum OptimizerKind: String, CaseIterable { case adam, rmsprop, sgd }

    public struct DataSettings: Equatable {
        public var dataset = Dataset.mnist
        /// Folder of IDX files; empty means the shipped default (`Data/mnist`).
        public var directory = ""
        public var imageSize = 28
        public var range = ImageDataset.ValueRange.symmetric
        public var format = DataFormat.auto
        /// 1 (grey) or 3 (RGB): what images are converted to and what the models make.
        public var channels = 1
        /// Flip each training image left-right with probability 1/2 (torchvision's RandomHorizontalFlip).
        public var flip = false
        /// An unreadable image in a folder is an error instead of a warning and a skip.
        public var strict = false
        /// Where decoded image folders are cached; empty: $SWIFTGAN_CACHE, else ~/.cache/swiftgan/images.
        public var cache = ""
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
        public var initialization = Initialization.pytorch
    }

    public struct LossSettings: Equatable {
        public var kind = LossKind.bce
        /// How D's real and fake terms combine: `sum` (seed 004) or `mean` (seed 001).
        public var discriminatorReduction = Reduction.sum
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
        public var generatorFakes = GeneratorFakes.reuse
        /// Labels of conditional fakes: `uniform` over the classes (seed 004's cGAN) or the real `batch`'s (seed 000).
        public var fakeLabels = FakeLabels.uniform
    }

    public struct OptimizerSettings: Equatable {
        public var kind = OptimizerKind.adam
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
        /// The same bits on any number of ranks: every sum over the batch in `reproducibleChunks` fixed chunks,
        /// added in one order (`ReproducibleBatch`).
        public var reproducible = false
        public var reproducibleChunks = 16
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
        /// Threads per process for the CPU's GEMMs and loops; 0: all cores for one process, the cores divided
        /// among the ranks on a machine under mpirun. Results do not depend on it.
        public var threads = 0
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
            throw ConfigError(
                file: url.path, keyPath: "",
                message: "cannot read the file: \(FileProblem.reason(error))")
        }
        return try parse(text, file: url.path, overrides: overrides)
    }

    public static func parse(_ text: String, file: String, overrides: [String] = []) throws -> TrainingConfig {
        try checkNesting(text, file: file)
        let document: Yams.Node?
        do { document = try Yams.compose(yaml: text) } catch {
            throw ConfigError(file: file, keyPath: "", message: "not valid YAML: \(error)")
        }
        guard let root = document else {
            throw ConfigError(
                file: file, keyPath: "", message: "the config is empty (a config names at least its model)")
        }
        let resolved = try ConfigOverrides.apply(overrides, to: root, file: file)
        let reader = try ConfigReader(resolved, file: file)
        var config = TrainingConfig()
        try ConfigKey.read(reader, into: &config)
        try config.validate(reader)
        return config
    }

    /// A config nests three levels; a document nested hundreds deep (which would exhaust the YAML parser's
    /// stack) is refused before parsing.
    private static func checkNesting(_ text: String, file: String, limit: Int = 64) throws {
        var depth = 0, deepest = 0
        for character in text.utf8 {
            switch character {
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: continue
            }
            deepest = max(deepest, depth)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let indented = lines.map { line in line.prefix { $0 == " " || $0 == "-" }.count }.max() ?? 0
        guard deepest <= limit, indented <= 4 * limit else {
            throw ConfigError(
                file: file, keyPath: "", message: "nested deeper than any config (\(max(deepest, indented / 2)) levels)"
            )
        }
    }

    /// Rules that join several keys.
    private func validate(_ r: ConfigReader) throws {
        if model.architecture == .sngan, model.classes == 0 {
            throw r.error(
                "model.classes", "sngan's projection discriminator is conditional: set classes (10 for digits)")
        }
        if model.classes > 0, ![.gan, .sngan].contains(model.architecture) {
            throw r.error(
                "model.classes", "\(model.architecture.rawValue) is unconditional; only gan and sngan take classes")
        }
        if loss.gradientPenalty > 0, model.discriminatorBatchNorm,
            [.dcgan, .dcgan28, .dcgan64].contains(model.architecture)
        {
            throw r.error(
                "loss.gradient_penalty",
                "a gradient penalty needs a critic without batch norm (model.discriminator_batch_norm: false)")
        }
        if loss.kind == .bce, !model.discriminatorSigmoid {
            throw r.error("loss.kind", "bce needs probabilities: set model.discriminator_sigmoid: true")
        }
        if loss.kind != .bce, model.discriminatorSigmoid, model.architecture != .sngan {
            throw r.error(
                "model.discriminator_sigmoid",
                "a \(loss.kind.rawValue) critic outputs scores, not probabilities: set it to false")
        }
        if data.channels == 3, !ModelZoo.takesColour(model.architecture) {
            throw r.error(
                "data.channels",
                "\(model.architecture.rawValue) reads 1-channel images; RGB needs dcgan, dcgan28, dcgan64 or sngan")
        }
        if data.channels == 3, logging.evaluateEvery > 0 {
            throw r.error(
                "logging.evaluate_every",
                "FID/KID/IS score greyscale digits; set it to 0 for RGB data (data.channels: 3)")
        }
        let expected = ModelZoo.imageSize(model.architecture)
        if data.imageSize != expected {
            throw r.error(
                "data.image_size",
                "\(model.architecture.rawValue) works on \(expected)x\(expected) images, not \(data.imageSize)")
        }
    }

    // MARK: - Writing

    /// The resolved config as YAML, every key present: what `runs/NAME/config.yaml` holds.
    public var yaml: String { ConfigKey.yaml(of: self) }
}
