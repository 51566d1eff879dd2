import NN

/// Seed 004's DCGAN generator for 32×32 images: `linear` Lin(100,4096) → 256×4×4, then `model` =
/// ConvT(256,128,3,2,0) BN2d ReLU ConvT(128,64,3,2,1) BN2d ReLU ConvT(64,1,4,2,2) Tanh (4 → 9 → 17 → 32).
public final class DCGANGenerator: GANNetwork {
    let linear: Linear
    let model: Sequential

    public init(noiseSize: Int = 100, channels: Int = 1, random: RandomGenerator) {
        linear = Linear(noiseSize, 4 * 4 * 256, generator: random)
        model = Sequential(
            ConvTranspose2d(256, 128, kernelSize: 3, stride: 2, padding: 0, generator: random), BatchNorm2d(128),
            ReLU(),
            ConvTranspose2d(128, 64, kernelSize: 3, stride: 2, padding: 1, generator: random), BatchNorm2d(64), ReLU(),
            ConvTranspose2d(64, channels, kernelSize: 4, stride: 2, padding: 2, generator: random), Tanh())
        super.init()
        register(linear, as: "linear")
        register(model, as: "model")
    }

    public override func forward(_ z: Tensor, labels: [Int]?) throws -> Tensor {
        _ = try checkedLabels(labels, batch: z.shape[0])
        return try model(linear(z).reshaped(to: [-1, 256, 4, 4]))
    }
}

/// Seed 004's DCGAN discriminator for 32×32 images: `conv` = Conv(1,16,3,2,1) LReLU(.2), then
/// [Conv, BN2d, LReLU] to 32, 64 and 128 channels (the last Conv 4,1,0) → (N,128); `linear` = Lin(128,1) Sigmoid.
/// Without batch norm and sigmoid it is the DCGAN-style critic WGAN-GP can use (second derivatives need no BN).
public final class DCGANDiscriminator: GANNetwork {
    let conv: Sequential
    let linear: Sequential

    public init(batchNorm: Bool = true, sigmoid: Bool = true, channels: Int = 1, random: RandomGenerator) {
        var layers: [Module] = [
            Conv2d(channels, 16, kernelSize: 3, stride: 2, padding: 1, generator: random), LeakyReLU(0.2),
        ]
        for (input, output, kernel, stride, padding) in [(16, 32, 3, 2, 1), (32, 64, 3, 2, 1), (64, 128, 4, 1, 0)] {
            layers.append(
                Conv2d(input, output, kernelSize: kernel, stride: stride, padding: padding, generator: random))
            if batchNorm { layers.append(BatchNorm2d(output)) }
            layers.append(LeakyReLU(0.2))
        }
        conv = Sequential(layers)
        linear = Sequential([Linear(128, 1, generator: random)] + (sigmoid ? [Sigmoid()] : []))
        super.init()
        register(conv, as: "conv")
        register(linear, as: "linear")
    }

    public override func forward(_ x: Tensor, labels: [Int]?) throws -> Tensor {
        _ = try checkedLabels(labels, batch: x.shape[0])
        return try linear(conv(x).flattened())
    }
}

extension ModelZoo {
    /// Seed 001's generator for 28×28 images: `main` = ConvT(100,128,7,1,0) BN2d ReLU ConvT(128,64,4,2,1) BN2d
    /// ReLU ConvT(64,1,4,2,1) Tanh (1 → 7 → 14 → 28; the seed's kernel 4 in the first layer is docs/models.md's
    /// known quirk).
    static func dcgan28Generator(noiseSize: Int, channels: Int, random: RandomGenerator) -> SequentialNetwork {
        SequentialNetwork(
            "main",
            Sequential(
                ConvTranspose2d(noiseSize, 128, kernelSize: 7, stride: 1, padding: 0, generator: random),
                BatchNorm2d(128), ReLU(),
                ConvTranspose2d(128, 64, kernelSize: 4, stride: 2, padding: 1, generator: random), BatchNorm2d(64),
                ReLU(),
                ConvTranspose2d(64, channels, kernelSize: 4, stride: 2, padding: 1, generator: random), Tanh()),
            inputShape: [noiseSize, 1, 1])
    }

    /// Seed 001's discriminator: `main` = Conv(1,64,4,2,1) LReLU(.2) Conv(64,128,4,2,1) BN2d LReLU(.2) Flatten
    /// Lin(6272,1) Sigmoid.
    static func dcgan28Discriminator(channels: Int, random: RandomGenerator) -> SequentialNetwork {
        SequentialNetwork(
            "main",
            Sequential(
                Conv2d(channels, 64, kernelSize: 4, stride: 2, padding: 1, generator: random), LeakyReLU(0.2),
                Conv2d(64, 128, kernelSize: 4, stride: 2, padding: 1, generator: random), BatchNorm2d(128),
                LeakyReLU(0.2),
                Flatten(), Linear(6272, 1, generator: random), Sigmoid()))
    }

    /// Seed 002's generator for 64×64 images: `net` = four [ConvT nobias, BN2d, ReLU] blocks 100→1024 (4,1,0),
    /// →512, →256, →128 (4,2,1), then ConvT(128,1,4,2,1) Tanh.
    static func dcgan64Generator(noiseSize: Int, channels: Int, random: RandomGenerator) -> SequentialNetwork {
        func block(_ input: Int, _ output: Int, _ stride: Int, _ padding: Int) -> Sequential {
            Sequential(
                ConvTranspose2d(
                    input, output, kernelSize: 4, stride: stride, padding: padding, bias: false, generator: random),
                BatchNorm2d(output), ReLU())
        }
        return SequentialNetwork(
            "net",
            Sequential(
                block(noiseSize, 1024, 1, 0), block(1024, 512, 2, 1), block(512, 256, 2, 1), block(256, 128, 2, 1),
                ConvTranspose2d(128, channels, kernelSize: 4, stride: 2, padding: 1, generator: random), Tanh()),
            inputShape: [noiseSize, 1, 1])
    }

    /// Seed 002's discriminator: `net` = Conv(1,64,4,2,1) LReLU(.2), three [Conv nobias, BN2d, LReLU(.2)] blocks
    /// 64→128→256→512, Conv(512,1,4,2,0) Sigmoid (64 → 32 → 16 → 8 → 4 → 1).
    static func dcgan64Discriminator(channels: Int, random: RandomGenerator) -> SequentialNetwork {
        func block(_ input: Int, _ output: Int) -> Sequential {
            Sequential(
                Conv2d(input, output, kernelSize: 4, stride: 2, padding: 1, bias: false, generator: random),
                BatchNorm2d(output), LeakyReLU(0.2))
        }
        return SequentialNetwork(
            "net",
            Sequential(
                Conv2d(channels, 64, kernelSize: 4, stride: 2, padding: 1, generator: random), LeakyReLU(0.2),
                block(64, 128), block(128, 256), block(256, 512),
                Conv2d(512, 1, kernelSize: 4, stride: 2, padding: 0, generator: random), Sigmoid()),
            outputShape: [1])
    }
}
