import Foundation

/// The initialisers the seeds use. PyTorch's defaults for Linear, Conv2d and ConvTranspose2d come from
/// `kaiming_uniform_(a=√5)`, which works out to U(−1/√fan_in, 1/√fan_in) for weights and biases alike.
public enum Initializer {
    /// U(−1/√fanIn, 1/√fanIn): PyTorch's default for weight and bias of Linear and (transposed) convolutions.
    public static func pytorchDefault(_ tensor: Tensor, fanIn: Int, generator: RandomGenerator) {
        let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
        generator.fillUniform(tensor, -bound, bound)
    }

    /// N(mean, std²): the seeds' `weights_init_normal` / `initialize_weights` (std 0.02).
    public static func normal(_ tensor: Tensor, mean: Float = 0, std: Float, generator: RandomGenerator) {
        generator.fillNormal(tensor, mean: mean, std: std)
    }

    public static func constant(_ tensor: Tensor, _ value: Float) { tensor.backend.fill(tensor, with: value) }
}

/// The generator layers draw their initial values from unless given one. Seed it (or pass generators) for
/// reproducible models; SwiftGAN's trainer always passes its own.
public enum DefaultGenerator {
    nonisolated(unsafe) public static var shared = RandomGenerator(seed: 0)
}
