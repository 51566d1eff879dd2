import NN
import TestSupport
import XCTest

/// Finite-difference checks of every layer with respect to its input and its parameters.
final class LayerGradientTests: XCTestCase {
    let random = RandomGenerator(seed: 21)

    func input(_ shape: [Int], from generator: RandomGenerator? = nil) -> Tensor {
        let t = Tensor(uninitialized: shape)
        (generator ?? random).fillUniform(t, -1, 1)
        return t.requiringGrad()
    }

    func check(
        _ layer: Module, input x: Tensor, _ name: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let parameters = layer.namedParameters().map(\.parameter.value)
        try GradientCheck.check([x] + parameters, name, file: file, line: line) { _ in try layer(x) }
    }

    /// Sequential's one-pass BatchNorm and activation gives the values and running statistics of the two
    /// layers called one after the other, in training and in evaluation.
    func testSequentialRunsBatchNormAndItsActivationAsTheTwoLayers() throws {
        let x = input([4, 3, 2, 2])
        let (fusedNorm, plainNorm) = (BatchNorm2d(3), BatchNorm2d(3))
        let fused = Sequential(fusedNorm, LeakyReLU(0.2))
        for training in [true, false] {
            fused.setTraining(training)
            plainNorm.setTraining(training)
            let expected = try LeakyReLU(0.2)(plainNorm(x))
            XCTAssertEqual(try fused(x).scalars.map(\.bitPattern), expected.scalars.map(\.bitPattern))
            XCTAssertEqual(fusedNorm.runningVariance.tensor.scalars, plainNorm.runningVariance.tensor.scalars)
        }
    }

    /// Sequential runs a BatchNorm and the ReLU or LeakyReLU after it as one pass (inputs from their own
    /// generator, so that the draws of `testLayers` stay as they were).
    func testBatchNormAndItsActivationInSequential() throws {
        let own = RandomGenerator(seed: 22)
        try check(
            Sequential(BatchNorm2d(2), ReLU()), input: input([3, 2, 2, 2], from: own), "BatchNorm2d → ReLU train")
        try check(
            Sequential(BatchNorm1d(3), LeakyReLU(0.2)), input: input([6, 3], from: own), "BatchNorm1d → LeakyReLU train"
        )
    }

    func testLayers() throws {
        try check(Linear(4, 3, generator: random), input: input([5, 4]), "Linear")
        try check(
            Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1, generator: random), input: input([2, 2, 5, 5]), "Conv2d")
        try check(
            ConvTranspose2d(3, 2, kernelSize: 4, stride: 2, padding: 1, generator: random), input: input([2, 3, 3, 3]),
            "ConvTranspose2d")
        let embedding = Embedding(4, 3, generator: random)
        try GradientCheck.check([embedding.weight.value], "Embedding") { _ in try embedding.forward(indices: [3, 0, 3])
        }
        let bn1 = BatchNorm1d(3, epsilon: 0.8)
        try check(bn1, input: input([6, 3]), "BatchNorm1d train")
        let bn2 = BatchNorm2d(2)
        try check(bn2, input: input([3, 2, 2, 2]), "BatchNorm2d train")
        bn2.eval()
        try check(bn2, input: input([3, 2, 2, 2]), "BatchNorm2d eval")
        // Spectral norm in eval mode: training mode would move u and v between the finite-difference evaluations.
        let sn = try spectralNorm(Linear(4, 3, generator: random), generator: random)
        sn.eval()
        try check(sn, input: input([2, 4]), "SpectralNorm(Linear) eval")
        let snConv = try spectralNorm(Conv2d(2, 2, kernelSize: 3, padding: 1, generator: random), generator: random)
        snConv.eval()
        try check(snConv, input: input([1, 2, 3, 3]), "SpectralNorm(Conv2d) eval")
    }

    /// The penalty's gradient with respect to a spectrally normalised critic's weights: a second derivative
    /// through spectral norm and linear layers. Tanh between them keeps the function smooth, so finite
    /// differences do not jump across an activation's kink (leaky ReLU's path is checked in TensorTests).
    func testGradientPenaltyThroughSpectralNorm() throws {
        let critic = Sequential(
            try spectralNorm(Linear(5, 6, generator: random), generator: random), Tanh(),
            try spectralNorm(Linear(6, 1, generator: random), generator: random))
        // Power iterations first, as training would: with u and v still random, σ = uᵀWv can be near zero.
        for _ in 0..<20 { _ = try critic(input([4, 5])) }
        critic.eval()
        let interpolates = input([4, 5])
        try GradientCheck.check(critic.namedParameters().map(\.parameter.value), "penalty through spectral norm") { _ in
            try GANLoss.gradientPenalty(critic: { try critic($0) }, interpolates: interpolates)
        }
    }
}
