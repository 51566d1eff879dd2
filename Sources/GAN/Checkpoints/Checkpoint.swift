import Foundation
import NN

/// What a checkpoint holds of a run: the networks with their optimisers, and the counters (steps and epochs
/// done). The config travels beside it.
public struct TrainingState {
    public let models: GANModels
    public let step: Int
    public let completedEpochs: Int

    public init(models: GANModels, step: Int, completedEpochs: Int) {
        (self.models, self.step, self.completedEpochs) = (models, step, completedEpochs)
    }
}

/// A training checkpoint: one safetensors file with everything a run needs to continue — G and D
/// parameters and buffers under docs/models.md's names (`generator.model.0.weight`), optimiser state
/// (`optimizer.generator.model.0.weight.exp_avg`, `optimizer.generator.step`) and, in `__metadata__`, the
/// resolved config, step, epoch, world size and format version.
public enum Checkpoint {
    public static let formatVersion = "1"
    /// More steps than any run takes (a step file name has 8 digits); a larger or negative step is damage.
    public static let maximumStep = 99_999_999

    public struct Contents {
        public var config: TrainingConfig
        public var step: Int
        public var file: SafeTensors.File
    }

    public enum CheckpointError: Error, CustomStringConvertible {
        case incompatible(path: String, reason: String)
        /// The checkpoint was written but could not be made `latest.safetensors`.
        case notLinked(path: String, reason: String)
        public var description: String {
            switch self {
            case let .incompatible(path, reason): "\(path) cannot be used: \(reason)"
            case let .notLinked(path, reason): "cannot point \(path) at the new checkpoint: \(reason)"
            }
        }
    }

    /// The checkpoint of `state`: metadata `step` and `epoch` are the steps and epochs done.
    public static func file(of state: TrainingState, config: TrainingConfig, worldSize: Int = 1) -> SafeTensors.File {
        let models = state.models
        var tensors = StateDict()
        tensors.merge(models.generator.stateDict(), prefix: "generator")
        tensors.merge(models.discriminator.stateDict(), prefix: "discriminator")
        tensors.merge(models.generatorOptimizer.stateDict(), prefix: "optimizer.generator")
        tensors.merge(models.discriminatorOptimizer.stateDict(), prefix: "optimizer.discriminator")
        return SafeTensors.File(
            tensors: tensors,
            metadata: [
                "format": "swiftgan-checkpoint", "format_version": formatVersion, "config": config.yaml,
                "step": String(state.step), "epoch": String(state.completedEpochs), "world_size": String(worldSize),
                "architecture": config.model.architecture.rawValue,
            ])
    }

    /// The checkpoint of `trainer` as it is now.
    public static func file(of trainer: Trainer) -> SafeTensors.File {
        file(of: trainer.state, config: trainer.config, worldSize: trainer.communicator.size)
    }

    /// Writes `trainer`'s checkpoint into `directory` (see `write`).
    @discardableResult
    public static func save(_ trainer: Trainer, in directory: URL, keep: Int) throws -> URL {
        try write(file(of: trainer), in: directory, keep: keep)
    }

    /// Writes `checkpoint` as `step-NNNNNNNN.safetensors` (its metadata's step) in `directory`, atomically,
    /// points `latest.safetensors` at it, and keeps the newest `keep` step files.
    @discardableResult
    public static func write(_ checkpoint: SafeTensors.File, in directory: URL, keep: Int) throws -> URL {
        try StopSignal.whileWritingCheckpoint { try writeFiles(checkpoint, in: directory, keep: keep) }
    }

    static func writeFiles(_ checkpoint: SafeTensors.File, in directory: URL, keep: Int) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let step = Int(checkpoint.metadata["step"] ?? "") ?? 0
        let url = directory.appendingPathComponent(String(format: "step-%08d.safetensors", step))
        try SafeTensors.write(checkpoint, to: url)
        // latest: a hard link made under a temporary name, then renamed over the old one (both atomic).
        let latest = directory.appendingPathComponent("latest.safetensors")
        let temporary = directory.appendingPathComponent(".latest.safetensors.tmp-\(getpid())")
        try? FileManager.default.removeItem(at: temporary)
        guard link(url.path, temporary.path) == 0, rename(temporary.path, latest.path) == 0 else {
            throw CheckpointError.notLinked(path: latest.path, reason: String(cString: strerror(errno)))
        }
        let steps = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }.sorted()
        for old in steps.dropLast(keep) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(old))
        }
        return url
    }

    /// Reads and checks a checkpoint: its format, version and config.
    public static func read(_ url: URL) throws -> Contents {
        let file = try SafeTensors.read(url)
        guard file.metadata["format"] == "swiftgan-checkpoint" else {
            throw CheckpointError.incompatible(
                path: url.path, reason: "it is not a SwiftGAN checkpoint (no format metadata)")
        }
        guard file.metadata["format_version"] == formatVersion else {
            throw CheckpointError.incompatible(
                path: url.path,
                reason: "format version \(file.metadata["format_version"] ?? "?") is not \(formatVersion)")
        }
        guard let yaml = file.metadata["config"], let stepText = file.metadata["step"], let step = Int(stepText),
            (0...maximumStep).contains(step)
        else {
            throw CheckpointError.incompatible(
                path: url.path, reason: "its metadata lacks the config or a step in 0...\(maximumStep)")
        }
        let config = try TrainingConfig.parse(yaml, file: "\(url.path) (embedded config)")
        return Contents(config: config, step: step, file: file)
    }

    /// Puts a checkpoint's state into `trainer`: networks, optimisers and step. Nothing changes unless all of it
    /// fits. One process only: under several ranks, give the checkpoint to `Trainer.init(resumingFrom:)`.
    public static func restore(_ trainer: Trainer, from url: URL) throws {
        trainer.step = try restore(trainer.models, from: url)
    }

    /// Puts a checkpoint's networks and optimiser states into `models` and returns its step. Nothing changes
    /// unless all of it fits.
    public static func restore(_ models: GANModels, from url: URL) throws -> Int {
        let contents = try read(url)
        let parts: [(prefix: String, check: (StateDict) throws -> Void, load: (StateDict) throws -> Void)] = [
            ("generator", models.generator.checkStateDict, models.generator.loadStateDict),
            ("discriminator", models.discriminator.checkStateDict, models.discriminator.loadStateDict),
            ("optimizer.generator", models.generatorOptimizer.checkStateDict, models.generatorOptimizer.loadStateDict),
            (
                "optimizer.discriminator", models.discriminatorOptimizer.checkStateDict,
                models.discriminatorOptimizer.loadStateDict
            ),
        ]
        // Every part is checked before any is loaded, so a checkpoint that does not fit changes nothing.
        for part in parts {
            do { try part.check(contents.file.tensors.scoped(to: part.prefix)) } catch let error as ModuleError {
                throw CheckpointError.incompatible(
                    path: url.path, reason: "\(error.prefixed(by: part.prefix)) (was it written for another config?)")
            }
        }
        for part in parts { try part.load(contents.file.tensors.scoped(to: part.prefix)) }
        return contents.step
    }

    /// A generator ready to sample from a checkpoint, in evaluation mode, on `device` (a checkpoint is the same
    /// file whichever device wrote it).
    public static func generator(
        from url: URL, device: Device = .cpu
    ) throws -> (generator: GANNetwork, config: TrainingConfig) {
        var contents = try read(url)
        contents.config.runtime.device = device
        let models = try GANModels(contents.config)
        do { try models.generator.loadStateDict(contents.file.tensors.scoped(to: "generator")) } catch let error
            as ModuleError
        {
            throw CheckpointError.incompatible(path: url.path, reason: "\(error)")
        }
        models.generator.eval()
        return (models.generator, contents.config)
    }
}
