import ArgumentParser
import Distributed
import Foundation
import GAN

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a GAN from a YAML config.")

    @Option(help: "The config (Configs/*.yaml).") var config: String
    @Option(help: "A folder of IDX files (default: the config's data.directory, else Data/<dataset>).") var data:
        String?
    @Option(help: "Where the run writes (default: runs/<config name>).") var runDir: String?
    @Option(help: "Epochs (overrides training.epochs).") var epochs: Int?
    @Option(help: "Stop after this many steps (overrides training.max_steps).") var maxSteps: Int?
    @Option(help: "Random seed (overrides seed).") var seed: Int?
    @Flag(help: "Continue from the run directory's latest checkpoint.") var resume = false
    @Flag(help: "No progress output.") var quiet = false
    @OptionGroup var options: RunOptions

    func run() throws {
        let communicator = Launcher.communicator()
        try Launcher.runOrAbort(communicator) { try train(communicator) }
    }

    func train(_ communicator: Communicator) throws {
        var settings = options.settings
        if let epochs { settings.append("training.epochs=\(epochs)") }
        if let maxSteps { settings.append("training.max_steps=\(maxSteps)") }
        if let seed { settings.append("seed=\(seed)") }
        var config = try TrainingConfig.load(URL(fileURLWithPath: self.config), overrides: settings)
        Launcher.useThreads(config.runtime.threads, communicator)
        config.runtime.device = try Launcher.device(config.runtime.device, communicator)
        _ = try config.runtime.device.backend  // no driver, library or GPU: a one-line error before anything else
        // Check the run directory before the (slower) data loading.
        let directory = URL(fileURLWithPath: runDir ?? "runs/\(config.name)")
        let latest = directory.appendingPathComponent("checkpoints/latest.safetensors")
        let hasCheckpoint = FileManager.default.fileExists(atPath: latest.path)
        // Rank 0 alone looks at the run directory, and holds its lock for the whole run; a failure there ends
        // every rank through MPI_Abort.
        var lock: RunLock?
        if communicator.isRoot {
            lock = try RunLock(directory)
            if resume, !hasCheckpoint { throw CommandError("--resume: there is no checkpoint at \(latest.path)") }
            if !resume, hasCheckpoint {
                throw CommandError(
                    "\(directory.path) already holds a run; continue it with --resume or choose another --run-dir")
            }
            if resume {
                let changes = config.changesToTheRun(from: try Checkpoint.read(latest).config)
                guard changes.isEmpty else {
                    throw CommandError(
                        "--resume: \(directory.path) was trained with another config: "
                            + changes.joined(separator: ", ") + "; a resumed run may change only "
                            + TrainingConfig.keysSafeToChangeOnResume.joined(separator: ", "))
                }
            }
        }
        defer { withExtendedLifetime(lock) {} }
        let data = try DataLocator(config: config, directory: data, communicator: communicator)
        if communicator.isRoot {
            for notice in data.notices { Console.error("notice: \(notice)\n") }
        }
        // Rank 0 restores; the trainer's data-parallel setup copies its state to the others.
        let trainer = try Trainer(
            config: config, dataset: data.training, testSet: data.test, communicator: communicator,
            overlap: !options.noOverlap,
            resumingFrom: resume ? latest : nil)
        StopSignal.install()
        guard communicator.isRoot else { return try trainer.run() }
        let run = try RunDirectory(directory, config: config, quiet: quiet)
        if config.logging.evaluateEvery > 0 {
            // The reference digits: the 28x28 test split next to the training data, else the shipped one.
            let folder = URL(
                fileURLWithPath: self.data ?? (config.data.directory.isEmpty ? "Data/mnist" : config.data.directory))
            let reference = try ImageDataset.load(directory: folder, split: .test, imageSize: 28)
            let judge = try DigitClassifier.load(URL(fileURLWithPath: config.logging.classifier))
            trainer.evaluator = try Evaluator(classifier: judge, reference: reference)
        }
        trainer.observers.append(run)
        try trainer.run()
    }
}
