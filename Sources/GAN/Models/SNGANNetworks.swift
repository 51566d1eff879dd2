import NN

/// Seed 000's conditional generator: `fc` = Lin(z+10,1024) BN1d ReLU Lin(1024,6272) BN1d ReLU → 128×7×7;
/// `deconv` = ConvT(128,64,4,2,1) BN2d ReLU ConvT(64,1,4,2,1) Tanh. Input is noise then one-hot label.
public final class SNGANGenerator: GANNetwork {
    let fc: Sequential
    let deconv: Sequential

    public init(noiseSize: Int = 100, classes: Int = 10, channels: Int = 1, random: RandomGenerator) {
        precondition(classes > 0, "SNGAN's generator is conditional: classes must be at least 1")
        fc = Sequential(
            Linear(noiseSize + classes, 1024, generator: random), BatchNorm1d(1024), ReLU(),
            Linear(1024, 6272, generator: random), BatchNorm1d(6272), ReLU())
        deconv = Sequential(
            ConvTranspose2d(128, 64, kernelSize: 4, stride: 2, padding: 1, generator: random), BatchNorm2d(64), ReLU(),
            ConvTranspose2d(64, channels, kernelSize: 4, stride: 2, padding: 1, generator: random), Tanh())
        super.init(classes: classes)
        register(fc, as: "fc")
        register(deconv, as: "deconv")
    }

    public override func forward(_ z: Tensor, labels: [Int]?) throws -> Tensor {
        let labels = try checkedLabels(labels, batch: z.shape[0]) ?? []  // never nil: classes > 0 (init)
        let features = try fc(concatChannels([z, oneHot(labels, classes: classes, backend: z.backend)]))
        return try deconv(features.reshaped(to: [-1, 128, 7, 7]))
    }
}

/// Seed 000's discriminator with spectral norm, made a projection discriminator (Miyato & Koyama 2018):
/// `conv` = SN(Conv(1,64,4,2,1)) LReLU(.2) SN(Conv(64,128,4,2,1)) LReLU(.2); h = LReLU(SN(Lin(6272,1024))(·));
/// output = SN(Lin(1024,1))(h) + Σ embed(y)·h. (The seed's D never sees the label; docs/models.md explains why this one does.)
public final class SNGANDiscriminator: GANNetwork {
    let conv: Sequential
    let fc: Sequential
    let embed: Embedding

    public init(classes: Int = 10, channels: Int = 1, random: RandomGenerator) throws {
        guard classes > 0 else {
            throw ModuleError.invalidConfiguration("SNGAN's discriminator is conditional: classes must be at least 1")
        }
        conv = Sequential(
            try spectralNorm(
                Conv2d(channels, 64, kernelSize: 4, stride: 2, padding: 1, generator: random), generator: random),
            LeakyReLU(0.2),
            try spectralNorm(
                Conv2d(64, 128, kernelSize: 4, stride: 2, padding: 1, generator: random), generator: random),
            LeakyReLU(0.2))
        fc = Sequential(
            try spectralNorm(Linear(6272, 1024, generator: random), generator: random), LeakyReLU(0.2),
            try spectralNorm(Linear(1024, 1, generator: random), generator: random))
        embed = Embedding(classes, 1024, generator: random)
        super.init(classes: classes)
        register(conv, as: "conv")
        register(fc, as: "fc")
        register(embed, as: "embed")
    }

    public override func forward(_ x: Tensor, labels: [Int]?) throws -> Tensor {
        let labels = try checkedLabels(labels, batch: x.shape[0]) ?? []  // never nil: classes > 0 (init)
        let features = try fc[1](fc[0](conv(x).flattened()))  // h: (N, 1024)
        let projection = try multiply(embed.forward(indices: labels), features).sumPerSample().reshaped(to: [-1, 1])
        return try add(fc[2](features), projection)
    }
}
