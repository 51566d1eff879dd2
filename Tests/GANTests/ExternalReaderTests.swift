import Foundation
import GAN
import TestSupport
import XCTest

/// Files checked by the tools their users open them with. `Launch/test` installs `tensorboard` and PyTorch
/// CPU; without them these tests fail (they do not skip).
final class ExternalReaderTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws {
        try Prerequisites.python(["numpy", "torch", "tensorboard"])
        directory = try Repository.scratchDirectory("external")
    }
    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    func testTensorBoardReadsTheEventFile() throws {
        let writer = try TensorBoardWriter(directory: directory)
        try writer.scalars([("loss/discriminator", 1.25), ("loss/generator", 0.5)], step: 10)
        try writer.scalars([("loss/discriminator", 1.0)], step: 20)
        let images = Tensor(repeating: 0.5, shape: [4, 1, 28, 28])
        images.pointer[0] = -1
        let grid = ImageGrid(images, columns: 2)
        try writer.image("samples", png: grid.png, width: grid.width, height: grid.height, step: 20)
        try writer.flush()

        let json = try Python.run("Tests/Scripts/read_events.py", [directory.path])
        let found = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: [String: [[Double]]]]
        XCTAssertEqual(found["scalars"]?["loss/discriminator"], [[10, 1.25], [20, 1.0]])
        XCTAssertEqual(found["scalars"]?["loss/generator"], [[10, 0.5]])
        let image = try XCTUnwrap(found["images"]?["samples"]?.first)
        XCTAssertEqual(Array(image.prefix(3)), [20, Double(grid.width), Double(grid.height)])
        XCTAssertEqual(Int(image[3]), grid.png.count)

        // SwiftGAN's own reader agrees.
        let (version, values) = try EventFileReader.read(writer.url)
        XCTAssertEqual(version, "brain.Event:2")
        XCTAssertEqual(values.filter { $0.tag == "loss/discriminator" }.map(\.scalar), [1.25, 1.0])
    }

    /// A checkpoint's generator loads into the seed's PyTorch module (`strict=True`) and gives the same
    /// samples for the same noise.
    func testPyTorchLoadsTheGeneratorAndSamplesAlike() throws {
        for name in ["gan", "cgan", "dcgan", "sngan", "dcgan64"] {
            let config = try TrainingConfig.load(Repository.config(name), overrides: ["training.batch_size=8"])
            let digits = try ImageDataset.load(
                directory: Repository.shippedData, split: .test, imageSize: config.data.imageSize
            ).subset(0..<16)
            let trainer = try Trainer(config: config, dataset: digits)
            trainer.observers = [StopAt(2, trainer)]
            try trainer.run()  // trained weights and running statistics, not the initial ones
            let checkpoint = try Checkpoint.save(trainer, in: directory.appendingPathComponent(name), keep: 1)

            let z = SampleRandom(seed: 5).noise(.fixedNoise, step: 0, samples: 0..<6, size: 100)
            let noiseURL = directory.appendingPathComponent("\(name)-z.npy")
            try NumpyFile.write(.float32(z.scalars), shape: z.shape, to: noiseURL)
            let labels = config.model.classes > 0 ? (0..<6).map { ($0 * 7) % 10 } : nil
            var arguments = [
                name, checkpoint.path, noiseURL.path, directory.appendingPathComponent("\(name)-torch.npy").path,
            ]
            if let labels {
                let labelsURL = directory.appendingPathComponent("\(name)-labels.npy")
                try NumpyFile.write(.int64(labels.map(Int64.init)), shape: [6], to: labelsURL)
                arguments.append(labelsURL.path)
            }
            _ = try Python.run("Tests/Scripts/pytorch_samples.py", arguments)

            let (generator, _) = try Checkpoint.generator(from: checkpoint)
            let ours = try GradientMode.withoutGradients { try generator.forward(z, labels: labels) }
            let (theirs, shape) = try NumpyFile.readFloats(directory.appendingPathComponent("\(name)-torch.npy"))
            XCTAssertEqual(shape, ours.shape, name)
            assertClose(ours.scalars, theirs, "\(name) samples from the same checkpoint and noise")
        }
    }
}
