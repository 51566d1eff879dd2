import ArgumentParser
import Distributed
import Foundation
import GAN

struct TrainClassifier: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-classifier",
        abstract: "Train the digit classifier that `evaluate` scores samples with, and save its weights.")

    @Option(help: "A folder with the MNIST training and test splits.") var data: String
    @Option(help: "mlp or lenet.") var architecture = "lenet"
    @Option(help: "Epochs (the last at a tenth of the learning rate).") var epochs = 4
    @Option(help: "Where the weights go (.safetensors).") var out = "Data/classifiers/mnist-lenet.safetensors"

    func run() throws {
        Launcher.useThreads(0, LocalCommunicator())
        guard let kind = DigitClassifier.Architecture(rawValue: architecture) else {
            throw ValidationError("--architecture: mlp or lenet")
        }
        let directory = URL(fileURLWithPath: data)
        let train = try ImageDataset.load(directory: directory, split: .train, imageSize: 28)
        let test = try ImageDataset.load(directory: directory, split: .test, imageSize: 28)
        let classifier = DigitClassifier(kind)
        let started = Date()
        try classifier.train(on: train, epochs: epochs, finalEpochLearningRate: 1e-4)
        let accuracy = try classifier.accuracy(on: test)
        let url = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try classifier.save(to: url)
        print(
            String(
                format: "%@: test accuracy %.4f after %d epochs (%.0f s); weights in %@", architecture, accuracy,
                epochs,
                Date().timeIntervalSince(started), url.path))
    }
}
