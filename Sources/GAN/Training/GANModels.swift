import NN

/// The generator and discriminator a config describes, each with its parameter arena and optimiser.
public final class GANModels {
    public let generator: GANNetwork
    public let discriminator: GANNetwork
    public let generatorArena: ParameterArena
    public let discriminatorArena: ParameterArena
    public let generatorOptimizer: Optimizer
    public let discriminatorOptimizer: Optimizer

    /// Where the networks, their arenas and the optimiser state live.
    public let device: Device

    /// Builds and initialises the networks on the host (the initialisers draw there), then places their
    /// parameter arenas, buffers and optimiser state on `config.runtime.device`.
    public init(_ config: TrainingConfig) throws {
        device = config.runtime.device
        let backend = try device.backend
        var options = ModelZoo.Options()
        options.noiseSize = config.model.noiseSize
        options.classes = config.model.classes
        options.batchNormEpsilon = config.model.batchNormEpsilon
        options.sigmoid = config.model.discriminatorSigmoid
        options.discriminatorBatchNorm = config.model.discriminatorBatchNorm
        options.channels = config.data.channels
        let random = RandomGenerator(seed: UInt64(config.seed), stream: 0x1417)
        generator = try ModelZoo.generator(config.model.architecture, options: options, random: random)
        discriminator = try ModelZoo.discriminator(config.model.architecture, options: options, random: random)
        for network in [generator, discriminator] {
            Self.initialize(network, scheme: config.model.initialization, generator: random)
        }
        generatorArena = ParameterArena(generator, backend: backend)
        discriminatorArena = ParameterArena(discriminator, backend: backend)
        try generator.moveBuffers(to: device)
        try discriminator.moveBuffers(to: device)
        generatorOptimizer = Self.optimizer(config.generatorOptimizer, generatorArena)
        discriminatorOptimizer = Self.optimizer(config.discriminatorOptimizer, discriminatorArena)
        // WGAN's weight clipping: D's weights are clamped after each of its steps.
        if config.loss.clip > 0 { discriminatorOptimizer.parameterRange = -config.loss.clip...config.loss.clip }
    }

    static func optimizer(_ settings: TrainingConfig.OptimizerSettings, _ arena: ParameterArena) -> Optimizer {
        switch settings.kind {
        case .rmsprop:
            RMSprop(arena, learningRate: settings.learningRate, alpha: settings.alpha, epsilon: settings.epsilon)
        case .sgd: SGD(arena, learningRate: settings.learningRate)
        case .adam:
            Adam(
                arena, learningRate: settings.learningRate, betas: (settings.betas[0], settings.betas[1]),
                epsilon: settings.epsilon)
        }
    }

    /// The seeds' initialisers: `dcgan-normal` is seed 004's `weights_init_normal` (conv weights N(0, 0.02),
    /// BatchNorm2d weight N(1, 0.02) and bias 0); `dcgan64-normal` is seed 002's `initialize_weights` (conv and
    /// BatchNorm2d weights all N(0, 0.02)). Linear layers keep PyTorch's default in both.
    static func initialize(_ network: Module, scheme: TrainingConfig.Initialization, generator random: RandomGenerator)
    {
        guard scheme != .pytorch else { return }
        for (_, module) in network.namedModules() {
            if let layer = module as? WeightLayer, layer is Conv2d || layer is ConvTranspose2d {
                Initializer.normal(layer.weight.value, std: 0.02, generator: random)
            } else if let norm = module as? BatchNorm2d, let weight = norm.weight {
                Initializer.normal(weight.value, mean: scheme == .dcganNormal ? 1 : 0, std: 0.02, generator: random)
                if scheme == .dcganNormal, let bias = norm.bias { Initializer.constant(bias.value, 0) }
            }
        }
    }
}
