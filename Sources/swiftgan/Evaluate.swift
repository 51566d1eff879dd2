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
            Launcher.useThreads(0, communicator)
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
                // Shape, count, finiteness and labels are checked by the evaluator.
                let asked = try labels.map { try NumpyFile.readIntegers(URL(fileURLWithPath: $0)) }
                report = try evaluator.evaluate(
                    samples: Tensor(values, shape: shape), labels: asked, communicator: communicator)
            } else {
                throw ValidationError("give --checkpoint or --samples")
            }
            if communicator.isRoot { print(report.json) }
        }
    }
}
