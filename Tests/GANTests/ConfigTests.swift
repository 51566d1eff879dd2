import Foundation
import GAN
import TestSupport
import XCTest

final class ConfigTests: XCTestCase {
    static let names = ["gan", "mlp-gan", "cgan", "wgan", "wgan-gp", "dcgan", "dcgan28", "dcgan64", "sngan"]

    func testEveryShippedConfigParsesAndRoundTrips() throws {
        for name in Self.names {
            let config = try TrainingConfig.load(Repository.config(name))
            XCTAssertEqual(config.name, name)
            // What the run directory saves reads back as the same config.
            XCTAssertEqual(try TrainingConfig.parse(config.yaml, file: "resolved"), config, name)
        }
        let wganGP = try TrainingConfig.load(Repository.config("wgan-gp"))
        XCTAssertEqual(wganGP.loss.gradientPenalty, 10)
        XCTAssertEqual(wganGP.schedule.criticSteps, 5)
        XCTAssertEqual(wganGP.generatorOptimizer.betas, [0.5, 0.9])
        XCTAssertEqual(try TrainingConfig.load(Repository.config("mlp-gan")).data.range, .unit)
    }

    func error(_ yaml: String, overrides: [String] = []) -> String {
        do {
            _ = try TrainingConfig.parse(yaml, file: "my.yaml", overrides: overrides)
            return "no error"
        } catch { return "\(error)" }
    }

    func testMistakesNameTheFileAndTheKeyPath() {
        XCTAssertEqual(error("training:\n  batchsize: 32\n"), "my.yaml: training.batchsize: unknown key")
        XCTAssertEqual(error("training:\n  batch_size: lots\n"), "my.yaml: training.batch_size: expected a whole number in 2...65536, got \"lots\"")
        XCTAssertEqual(error("training:\n  batch_size: 1\n"), "my.yaml: training.batch_size: expected a whole number in 2...65536, got \"1\"")
        XCTAssertEqual(error("model:\n  architecture: stylegan\n"),
                       "my.yaml: model.architecture: expected one of gan, mlp-gan, dcgan, dcgan28, dcgan64, sngan, got \"stylegan\"")
        XCTAssertEqual(error("optimizer:\n  generator: {betas: [0.5]}\n"), "my.yaml: optimizer.generator.betas: expected a list of 2 numbers, got a list")
        XCTAssertEqual(error("data: [1, 2]\n"), "my.yaml: data: expected a mapping of keys to values")
        XCTAssertEqual(error("loss:\n  kind: bce\n  clip: -1\n"), "my.yaml: loss.clip: expected a number in 0.0...1000000.0, got \"-1\"")
        XCTAssertTrue(error("data: {image_size: 32}\n").contains("data.image_size: gan works on 28x28 images, not 32"))
        XCTAssertTrue(error("model: {architecture: dcgan, discriminator_sigmoid: false}\ndata: {image_size: 32}\nloss: {kind: wasserstein, gradient_penalty: 10}\n")
            .contains("loss.gradient_penalty: a gradient penalty needs a critic without batch norm"))
        XCTAssertTrue(error("a: [unclosed\n").hasPrefix("my.yaml: not valid YAML"))
    }

    func testOverridesReachAnyKeyAndAreChecked() throws {
        let config = try TrainingConfig.parse("name: x\n", file: "my.yaml", overrides: [
            "training.batch_size=32", "optimizer.discriminator.betas=[0.1, 0.2]", "loss.kind=bce", "name=renamed",
        ])
        XCTAssertEqual(config.training.batchSize, 32)
        XCTAssertEqual(config.discriminatorOptimizer.betas, [0.1, 0.2])
        XCTAssertEqual(config.name, "renamed")
        XCTAssertEqual(error("name: x\n", overrides: ["training.bach_size=3"]), "my.yaml: training.bach_size: unknown key")
        XCTAssertEqual(error("name: x\n", overrides: ["training.batch_size"]), "my.yaml: training.batch_size: --set needs key.path=value")
        XCTAssertEqual(error("name: x\n", overrides: ["name.first=3"]), "my.yaml: name: --set cannot go inside a value that is not a mapping")
    }
}
