import NN

/// The architectures of docs/models.md by name: the `architecture` a config names picks a generator and a
/// discriminator built in Swift, with the seeds' hyperparameters as arguments.
public enum ModelZoo {
    public enum Architecture: String, CaseIterable, Codable {
        case gan, mlpGAN = "mlp-gan", dcgan, dcgan28, dcgan64, sngan
    }

    /// What a config may vary within an architecture.
    public struct Options: Equatable {
        public var noiseSize = 100
        /// Label classes for conditional models (`cgan`, `sngan`); 0 for unconditional ones.
        public var classes = 0
        /// BatchNorm1d eps of the `gan` generator (the seed's 0.8).
        public var batchNormEpsilon: Float = 0.8
        /// End the discriminator in a Sigmoid (false for Wasserstein critics).
        public var sigmoid = true
        /// Batch norm in the DCGAN discriminator (false for a gradient-penalty critic).
        public var discriminatorBatchNorm = true
        /// Image channels: 1 (grey) or 3 (RGB); only the convolutional architectures take 3.
        public var channels = 1

        public init() {}
    }

    public static func generator(
        _ architecture: Architecture, options: Options = Options(), random: RandomGenerator
    )
        throws -> GANNetwork
    {
        switch architecture {
        case .gan:
            return GANGenerator(
                noiseSize: options.noiseSize, classes: options.classes, batchNormEpsilon: options.batchNormEpsilon,
                random: random)
        case .mlpGAN: return mlpGANGenerator(noiseSize: options.noiseSize, random: random)
        case .dcgan: return DCGANGenerator(noiseSize: options.noiseSize, channels: options.channels, random: random)
        case .dcgan28: return dcgan28Generator(noiseSize: options.noiseSize, channels: options.channels, random: random)
        case .dcgan64: return dcgan64Generator(noiseSize: options.noiseSize, channels: options.channels, random: random)
        case .sngan:
            return SNGANGenerator(
                noiseSize: options.noiseSize, classes: max(options.classes, 1), channels: options.channels,
                random: random)
        }
    }

    public static func discriminator(
        _ architecture: Architecture, options: Options = Options(), random: RandomGenerator
    ) throws -> GANNetwork {
        switch architecture {
        case .gan: return GANDiscriminator(classes: options.classes, sigmoid: options.sigmoid, random: random)
        case .mlpGAN: return mlpGANDiscriminator(random: random)
        case .dcgan:
            return DCGANDiscriminator(
                batchNorm: options.discriminatorBatchNorm, sigmoid: options.sigmoid, channels: options.channels,
                random: random)
        case .dcgan28: return dcgan28Discriminator(channels: options.channels, random: random)
        case .dcgan64: return dcgan64Discriminator(channels: options.channels, random: random)
        case .sngan:
            return try SNGANDiscriminator(classes: max(options.classes, 1), channels: options.channels, random: random)
        }
    }

    /// Whether an architecture takes RGB images (`Options.channels` 3): the convolutional ones.
    public static func takesColour(_ architecture: Architecture) -> Bool {
        [.dcgan, .dcgan28, .dcgan64, .sngan].contains(architecture)
    }

    /// The image side each architecture works at.
    public static func imageSize(_ architecture: Architecture) -> Int {
        switch architecture {
        case .dcgan: 32
        case .dcgan64: 64
        default: 28
        }
    }
}
