/// The GAN losses of the seed documents. BCE and BCE-with-logits are fused operations in `Tensor`
/// (`binaryCrossEntropy`, `binaryCrossEntropyWithLogits`); these are built from differentiable operations.
public enum GANLoss {
    /// Hinge loss for the discriminator: mean relu(1 − D(x)) + mean relu(1 + D(G(z))).
    public static func hingeDiscriminator(real: Tensor, fake: Tensor) throws -> Tensor {
        try add(real.negated().shifted(by: 1).relu().mean(), fake.shifted(by: 1).relu().mean())
    }

    /// Hinge loss for the generator: −mean D(G(z)).
    public static func hingeGenerator(fake: Tensor) throws -> Tensor { try fake.mean().negated() }

    /// The Wasserstein critic loss: −mean D(x) + mean D(G(z)).
    public static func wassersteinCritic(real: Tensor, fake: Tensor) throws -> Tensor {
        try subtract(fake.mean(), real.mean())
    }

    /// The Wasserstein generator loss: −mean D(G(z)).
    public static func wassersteinGenerator(fake: Tensor) throws -> Tensor { try fake.mean().negated() }

    /// WGAN-GP's penalty, weight · mean((‖∇x̂ D(x̂)‖₂ − 1)²), differentiable with respect to the critic's
    /// parameters (its gradient is a second derivative of the critic).
    /// - Parameters:
    ///   - critic: D, from `(N, ...)` samples to `(N, 1)` scores.
    ///   - interpolates: x̂ = α·x + (1 − α)·G(z), `(N, ...)`; need not require grad.
    public static func gradientPenalty(
        critic: (Tensor) throws -> Tensor, interpolates: Tensor, weight: Float = 10
    ) throws -> Tensor {
        let x = interpolates.detached().requiringGrad()
        let scores = try critic(x)
        let gradient = try grad(
            of: scores, withRespectTo: x, seed: Tensor(repeating: 1, shape: scores.shape), createGraph: true)
        let norms = try multiply(gradient, gradient).sumPerSample().squareRoot()  // (N)
        return try norms.shifted(by: -1).pow(2).mean().scaled(by: weight)
    }
}
