import GAN
import NN
import TestSupport
import XCTest

/// The networks of every config in docs/models.md against the same networks in PyTorch.
final class ModelParityTests: XCTestCase {
    /// Each fixture config's architecture and options.
    static let configs: [(name: String, architecture: ModelZoo.Architecture, options: ModelZoo.Options)] = {
        func options(classes: Int = 0, sigmoid: Bool = true, batchNorm: Bool = true) -> ModelZoo.Options {
            var o = ModelZoo.Options()
            o.classes = classes
            o.sigmoid = sigmoid
            o.discriminatorBatchNorm = batchNorm
            return o
        }
        return [
            ("gan", .gan, options()), ("mlp-gan", .mlpGAN, options()), ("cgan", .gan, options(classes: 10)),
            ("wgan", .gan, options(sigmoid: false)), ("wgan-gp", .gan, options(sigmoid: false)),
            ("dcgan", .dcgan, options()), ("dcgan28", .dcgan28, options()), ("dcgan64", .dcgan64, options()),
            ("sngan", .sngan, options(classes: 10)),
        ]
    }()

    func networks(_ index: Int) throws -> (GANNetwork, GANNetwork) {
        let (_, architecture, options) = Self.configs[index]
        let random = RandomGenerator(seed: 1)
        return (
            try ModelZoo.generator(architecture, options: options, random: random),
            try ModelZoo.discriminator(architecture, options: options, random: random)
        )
    }

    func testTrainableValueCountsMatchModelsMD() throws {
        let expected: [String: (Int, Int)] = [
            "gan": (581_264, 533_505), "mlp-gan": (293_136, 267_009), "cgan": (582_544, 538_625),
            "wgan": (581_264, 533_505), "wgan-gp": (581_264, 533_505), "dcgan": (783_937, 155_073),
            "dcgan28": (759_873, 138_817), "dcgan64": (12_654_337, 2_763_585), "sngan": (6_689_345, 6_567_105),
        ]
        for (index, config) in Self.configs.enumerated() {
            let (g, d) = try networks(index)
            XCTAssertEqual(g.parameterCount, expected[config.name]!.0, "\(config.name) generator")
            XCTAssertEqual(d.parameterCount, expected[config.name]!.1, "\(config.name) discriminator")
        }
    }

    func testEveryNetworkMatchesPyTorch() throws {
        for (index, config) in Self.configs.enumerated() {
            let file = try Fixtures.load("models/\(config.name).safetensors")
            let (g, d) = try networks(index)
            let labels = file.tensors["labels"] != nil ? try file.integers("labels") : nil
            try compare(g, prefix: "generator", input: file.tensor("noise"), labels: labels, file, config.name)
            try compare(d, prefix: "discriminator", input: file.tensor("images"), labels: labels, file, config.name)
        }
    }

    /// Repeats the fixture script's `run_network`: eval then train mode, each a forward pass and a backward
    /// pass of Σ y·R, then the buffers.
    func compare(
        _ network: GANNetwork, prefix: String, input: Tensor, labels: [Int]?, _ file: SafeTensors.File, _ config: String
    ) throws {
        // Loading by name with strict checks is itself the test of docs/models.md's tensor names.
        try network.loadStateDict(file.initialState(for: network, prefix: prefix))
        let arena = ParameterArena(network)
        let r = try file.floats("\(prefix).R")
        for mode in ["eval", "train"] {
            let what = "\(config) \(prefix) \(mode)"
            network.setTraining(mode == "train")
            arena.zeroGradients()
            let x = input.copy().requiringGrad()
            let y = try network.forward(x, labels: labels)
            assertClose(y.scalars, try file.floats("\(prefix).\(mode).output"), "\(what) output")
            try multiply(y, Tensor(r, shape: y.shape)).sum().backward()
            assertClose(
                Fixtures.sampled(x.grad!.scalars), try file.floats("\(prefix).\(mode).dinput"), "\(what) input gradient"
            )
            let expected = try network.namedParameters().map { try file.floats("\(prefix).\(mode).grad.\($0.name)") }
            let largest = expected.joined().reduce(0) { max($0, abs($1)) }
            let zeroByBatchNorm = mode == "train" ? Self.biasesFeedingBatchNorm(network) : []
            for ((name, parameter), reference) in zip(network.namedParameters(), expected) {
                let actual = Fixtures.sampled(parameter.grad!.scalars)
                if zeroByBatchNorm.contains(name) {
                    // The batch mean cancels a bias feeding batch norm: its gradient is exactly zero, and both
                    // PyTorch's and ours are float32 rounding noise. Zero is what is asserted.
                    let size = actual.reduce(0) { max($0, abs($1)) }
                    XCTAssertLessThanOrEqual(size, 1e-5 * largest, "\(what) gradient of \(name) should be zero")
                } else {
                    assertClose(actual, reference, "\(what) gradient of \(name)")
                }
            }
        }
        for (name, buffer) in network.namedBuffers() {
            guard case let .float32(t) = buffer.value else { continue }
            assertClose(
                t.scalars, try file.floats("\(prefix).after.\(name)"),
                "\(config) \(prefix) \(name) after training forward")
        }
    }

    /// Names of the biases of layers immediately followed by batch norm.
    static func biasesFeedingBatchNorm(_ network: Module) -> Set<String> {
        var names: Set<String> = []
        for (path, module) in network.namedModules() {
            for (index, child) in module.children.enumerated().dropLast()
            where (child.module as? WeightLayer)?.bias != nil && module.children[index + 1].module is BatchNorm {
                names.insert([path, child.name, "bias"].filter { !$0.isEmpty }.joined(separator: "."))
            }
        }
        return names
    }

    /// WGAN-GP's penalty and its gradient with respect to the critic's weights (a second derivative of the critic).
    func testGradientPenaltyMatchesPyTorch() throws {
        var noBatchNorm = ModelZoo.Options()
        noBatchNorm.sigmoid = false
        noBatchNorm.discriminatorBatchNorm = false
        var critic = ModelZoo.Options()
        critic.sigmoid = false
        var conditional = ModelZoo.Options()
        conditional.classes = 10
        let critics: [(String, ModelZoo.Architecture, ModelZoo.Options)] = [
            ("wgan-gp", .gan, critic), ("wgan", .gan, critic), ("gan", .gan, ModelZoo.Options()),
            ("sngan", .sngan, conditional),
            ("dcgan-critic", .dcgan, noBatchNorm),
        ]
        for (name, architecture, options) in critics {
            let file = try Fixtures.load("penalty/\(name).safetensors")
            let d = try ModelZoo.discriminator(architecture, options: options, random: RandomGenerator(seed: 1))
            try d.loadStateDict(file.initialState(for: d, prefix: "discriminator"))
            let arena = ParameterArena(d)
            let labels = file.tensors["labels"] != nil ? try file.integers("labels") : nil
            let penalty = try GANLoss.gradientPenalty(
                critic: { try d.forward($0, labels: labels) }, interpolates: file.tensor("interpolates"))
            assertClose([penalty.item], try file.floats("penalty"), "\(name) penalty")
            try penalty.backward()
            for ((parameterName, _), offset) in zip(arena.parameters, arena.offsets) {
                let count = d.stateDict()[parameterName]!.count
                let gradient = Array(arena.gradients.scalars[offset..<(offset + count)])
                assertClose(
                    Fixtures.sampled(gradient), try file.floats("grad.\(parameterName)"),
                    "\(name) penalty gradient of \(parameterName)")
            }
            for (bufferName, buffer) in d.namedBuffers() {
                guard case let .float32(t) = buffer.value else { continue }
                assertClose(t.scalars, try file.floats("after.\(bufferName)"), "\(name) \(bufferName)")
            }
        }
    }

    func testBatchNormCriticRefusesThePenalty() throws {
        let d = try ModelZoo.discriminator(.dcgan, random: RandomGenerator(seed: 1))
        let x = Tensor(repeating: 0.1, shape: [2, 1, 32, 32])
        XCTAssertThrowsError(try GANLoss.gradientPenalty(critic: { try d($0) }, interpolates: x)) {
            XCTAssertTrue("\($0)".contains("batchNorm has no second derivative"))
        }
    }

    func testLabelsAreCheckedAgainstTheNetwork() throws {
        var conditional = ModelZoo.Options()
        conditional.classes = 10
        let g = try ModelZoo.generator(.gan, options: conditional, random: RandomGenerator(seed: 1))
        let z = Tensor(zeros: [2, 100])
        XCTAssertThrowsError(try g(z)) { XCTAssertTrue("\($0)".contains("needs labels")) }
        XCTAssertThrowsError(try g.forward(z, labels: [1, 10])) { XCTAssertTrue("\($0)".contains("label 10")) }
        XCTAssertThrowsError(try g.forward(z, labels: [1])) {
            XCTAssertTrue("\($0)".contains("1 labels for a batch of 2"))
        }
        XCTAssertEqual(try g.forward(z, labels: [1, 2]).shape, [2, 1, 28, 28])
    }
}
