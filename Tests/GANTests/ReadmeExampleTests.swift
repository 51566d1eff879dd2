import GAN
import XCTest

/// The README's Swift example, as written there.
final class ReadmeExampleTests: XCTestCase {
    func testReadmeExampleRuns() throws {
        let random = RandomGenerator(seed: 1)
        let d = try ModelZoo.discriminator(
            .sngan,
            options: {
                var o = ModelZoo.Options()
                o.classes = 10
                return o
            }(),
            random: random)
        let arena = ParameterArena(d)
        let adam = Adam(arena, learningRate: 2e-4, betas: (0.5, 0.999))
        let images = Tensor(repeating: 0, shape: [4, 1, 28, 28])
        let penalty = try GANLoss.gradientPenalty(
            critic: { try d.forward($0, labels: [0, 1, 2, 3]) }, interpolates: images)
        try penalty.backward()  // a second derivative of the critic, into arena.gradients
        adam.step()

        XCTAssertGreaterThan(arena.gradientNorm, 0)
        XCTAssertEqual(adam.stepCount, 1)
    }
}
