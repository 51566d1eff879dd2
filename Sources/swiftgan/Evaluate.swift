import ArgumentParser
import Distributed
import Foundation
import GAN

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Score a checkpoint's samples (or a .npy of samples): one JSON line with FID, KID, IS, class histogram, label accuracy."
    )

    @Option(help: "A checkpoint to sample from.") var checkpoint: String?
    @Option(help: "Instead of a checkpoint: samples as float32 .npy [N, 1, H, W] in [-1, 1].") var samples: String?
    @Option(help: "With --samples: the labels asked for, as int64 .npy [N] (for label accuracy).") var labels: String?
    @Option(help: "How many samples to generate.") var count = 10_000
    @Option(help: "A folder with the MNIST test split: the reference digits.") var data = "Data/mnist"
    @Option(help: "The classifier's weights (swiftgan train-classifier).") var classifier =
        "Data/classifiers/mnist-lenet.safetensors"
    @Option(help: "Random seed of the noise.") var seed = 0
    @Option(help: "Where the generator runs: cpu, cuda or cuda:N (the classifier runs on the CPU).") var device = "cpu"

    func validate() throws {
        guard (2...1_000_000).contains(count) else {
            throw ValidationError("--count must be in 2...1000000, not \(count)")
        }
        if checkpoint != nil, samples != nil { throw ValidationError("give --checkpoint or --samples, not both") }
        if labels != nil, samples == nil { throw ValidationError("--labels goes with --samples") }
    }

    func run() throws {
        let communicator = Launcher.communicator()
        try Launcher.runOrAbort(communicator) {
            BLASThreads.applyDefault()
            let judge = try DigitClassifier.load(URL(fileURLWithPath: classifier))
            let reference = try ImageDataset.load(directory: URL(fileURLWithPath: data), split: .test, imageSize: 28)
            let evaluator = try Evaluator(classifier: judge, reference: reference, communicator: communicator)
            let report: Evaluator.Report
            if let checkpoint {
                let placed = try Launcher.device(Device(parsing: device), communicator)
                let (generator, config) = try Checkpoint.generator(
                    from: URL(fileURLWithPath: checkpoint), device: placed)
                report = try evaluator.evaluate(
                    generator: generator, config: config, count: count, seed: UInt64(seed), communicator: communicator)
            } else if let samples {
                let (values, shape) = try NumpyFile.readFloats(URL(fileURLWithPath: samples))
                guard shape.count == 4, shape[1] == 1, shape[2] == shape[3], shape[2] >= 8 else {
                    throw CommandError("--samples: expected square images [N, 1, H, H] with H at least 8, got \(shape)")
                }
                guard shape[0] >= 2 else {
                    throw CommandError("--samples: FID needs at least 2 samples, the file has \(shape[0])")
                }
                if let bad = values.first(where: { !$0.isFinite }) {
                    throw CommandError("--samples: the file holds \(bad); samples must be finite numbers in [-1, 1]")
                }
                let asked = try labels.map { try NumpyFile.readIntegers(URL(fileURLWithPath: $0)) }
                if let asked, asked.count != shape[0] || asked.contains(where: { !(0..<10).contains($0) }) {
                    throw CommandError(
                        "--labels: expected \(shape[0]) labels in 0...9, got \(asked.count)"
                            + (asked.first(where: { !(0..<10).contains($0) }).map { " (one is \($0))" } ?? ""))
                }
                report = try evaluator.evaluate(
                    samples: Tensor(values, shape: shape), labels: asked, communicator: communicator)
            } else {
                throw ValidationError("give --checkpoint or --samples")
            }
            if communicator.isRoot { print(report.json) }
        }
    }
}
