import NN

/// The fully connected generator of seed 004 (`gan`, `cgan`, `wgan`, `wgan-gp`): `model` =
/// Lin(z+c,128) LReLU(.2) Lin(128,256) BN1d(256) LReLU Lin(256,512) BN1d(512) LReLU Lin(512,784) Tanh.
/// The seed passes 0.8 as BatchNorm1d's second argument, which is eps; `batchNormEpsilon` keeps that choice visible.
public final class GANGenerator: GANNetwork {
    public let noiseSize: Int
    let model: Sequential

    public init(noiseSize: Int = 100, classes: Int = 0, batchNormEpsilon: Float = 0.8, random: RandomGenerator) {
        self.noiseSize = noiseSize
        model = Sequential(
            Linear(noiseSize + classes, 128, generator: random), LeakyReLU(0.2),
            Linear(128, 256, generator: random), BatchNorm1d(256, epsilon: batchNormEpsilon), LeakyReLU(0.2),
            Linear(256, 512, generator: random), BatchNorm1d(512, epsilon: batchNormEpsilon), LeakyReLU(0.2),
            Linear(512, 784, generator: random), Tanh())
        super.init(classes: classes)
        register(model, as: "model")
    }

    public override func forward(_ z: Tensor, labels: [Int]?) throws -> Tensor {
        let input =
            try checkedLabels(labels, batch: z.shape[0]).map {
                try concatChannels([z, oneHot($0, classes: classes, backend: z.backend)])
            } ?? z
        return try model(input).reshaped(to: [-1, 1, 28, 28])
    }
}

/// The fully connected discriminator of seed 004: `model` = Lin(784+c,512) LReLU(.2) Lin(512,256) LReLU
/// Lin(256,1), then Sigmoid unless it is a Wasserstein critic.
public final class GANDiscriminator: GANNetwork {
    let model: Sequential

    public init(classes: Int = 0, sigmoid: Bool = true, random: RandomGenerator) {
        var layers: [Module] = [
            Linear(784 + classes, 512, generator: random), LeakyReLU(0.2),
            Linear(512, 256, generator: random), LeakyReLU(0.2), Linear(256, 1, generator: random),
        ]
        if sigmoid { layers.append(Sigmoid()) }
        model = Sequential(layers)
        super.init(classes: classes)
        register(model, as: "model")
    }

    public override func forward(_ x: Tensor, labels: [Int]?) throws -> Tensor {
        let flat = try x.flattened()
        let input =
            try checkedLabels(labels, batch: x.shape[0]).map {
                try concatChannels([flat, oneHot($0, classes: classes, backend: x.backend)])
            } ?? flat
        return try model(input)
    }
}

extension ModelZoo {
    /// Seed 003's generator (`mlp-gan`): `model` = Lin(100,256) ReLU Lin(256,256) ReLU Lin(256,784) Tanh.
    static func mlpGANGenerator(noiseSize: Int, random: RandomGenerator) -> SequentialNetwork {
        SequentialNetwork(
            "model",
            Sequential(
                Linear(noiseSize, 256, generator: random), ReLU(), Linear(256, 256, generator: random), ReLU(),
                Linear(256, 784, generator: random), Tanh()),
            outputShape: [1, 28, 28])
    }

    /// Seed 003's discriminator: `model` = Lin(784,256) LReLU(.1) Lin(256,256) LReLU(.1) Lin(256,1) Sigmoid.
    static func mlpGANDiscriminator(random: RandomGenerator) -> SequentialNetwork {
        SequentialNetwork(
            "model",
            Sequential(
                Linear(784, 256, generator: random), LeakyReLU(0.1), Linear(256, 256, generator: random),
                LeakyReLU(0.1), Linear(256, 1, generator: random), Sigmoid()),
            inputShape: [784])
    }
}
