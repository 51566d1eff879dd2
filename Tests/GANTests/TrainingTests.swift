import Foundation
import GAN
import TestSupport
import XCTest

/// Short runs of every config on the shipped digits: finite losses, every file of the run directory,
/// resume equality, checkpoint damage.
final class TrainingTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try Repository.scratchDirectory("training") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// A config with a small batch, and digits enough for `batches` batches per epoch.
    func setup(
        _ name: String, batches: Int = 2, batch: Int = 16, overrides: [String] = []
    ) throws -> (TrainingConfig, ImageDataset, ImageDataset) {
        let config = try TrainingConfig.load(
            Repository.config(name),
            overrides: [
                "training.batch_size=\(batch)", "logging.log_every=1", "logging.grid_samples=20",
            ] + overrides)
        let digits = try ImageDataset.load(
            directory: Repository.shippedData, split: .test, imageSize: config.data.imageSize)
        return (config, digits.subset(0..<(batch * batches)), digits.subset(5000..<(5000 + batch * 2)))
    }

    func testEveryConfigTrainsAndWritesItsRunDirectory() throws {
        for name in ConfigTests.names {
            // Two epochs of two batches; n_critic 5 configs get a G step on batch 0 of each epoch.
            let (config, data, test) = try setup(name, overrides: ["training.epochs=2"])
            let trainer = try Trainer(config: config, dataset: data, testSet: test)
            let run = try RunDirectory(directory.appendingPathComponent(name), config: config, quiet: true)
            let recorder = Recorder()
            trainer.observers = [run, recorder]
            try trainer.run()
            XCTAssertEqual(trainer.step, 4, name)
            XCTAssertEqual(recorder.steps.count, 4, name)
            for step in recorder.steps {
                XCTAssertTrue(
                    step.discriminatorLoss?.isFinite ?? false,
                    "\(name) D loss \(String(describing: step.discriminatorLoss))")
            }
            XCTAssertTrue(recorder.steps.compactMap(\.generatorLoss).allSatisfy(\.isFinite), name)
            XCTAssertEqual(
                recorder.steps.compactMap(\.generatorLoss).count, config.schedule.criticSteps == 1 ? 4 : 2, name)
            if config.loss.gradientPenalty > 0 { XCTAssertNotNil(recorder.steps[0].gradientPenalty) }
            XCTAssertEqual(recorder.epochs.count, 2)
            XCTAssertNotNil(recorder.epochs[0].test, "\(name): the test split is evaluated each epoch")

            let files = Set(try FileManager.default.contentsOfDirectory(atPath: run.url.path))
            XCTAssertTrue(
                files.isSuperset(of: ["config.yaml", "metrics.jsonl", "losses.svg", "images", "checkpoints"]),
                "\(name): \(files)")
            XCTAssertTrue(files.contains { $0.hasPrefix("events.out.tfevents.") }, name)
            XCTAssertEqual(
                try FileManager.default.contentsOfDirectory(atPath: run.imagesURL.path).sorted(),
                ["epoch-0001.png", "epoch-0002.png"])
            let checkpoints = Set(try FileManager.default.contentsOfDirectory(atPath: run.checkpointsURL.path))
            XCTAssertEqual(
                checkpoints, ["latest.safetensors", "step-00000002.safetensors", "step-00000004.safetensors"], name)
            let metrics = try String(contentsOf: run.url.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n")
            XCTAssertEqual(metrics.count, 4 + 2, "\(name): a record per step (log_every 1) and per epoch")
            for line in metrics {
                XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), "\(name): \(line)")
            }
            XCTAssertEqual(try TrainingConfig.load(run.url.appendingPathComponent("config.yaml")), config)
        }
    }

    /// A run stopped within an epoch (max_steps) ends with a grid of where it got to and a checkpoint.
    func testRunEndingWithinAnEpochWritesAFinalGrid() throws {
        let (config, data, _) = try setup("gan", batches: 4, overrides: ["training.epochs=2", "training.max_steps=6"])
        let trainer = try Trainer(config: config, dataset: data)
        let run = try RunDirectory(directory.appendingPathComponent("partial"), config: config, quiet: true)
        trainer.observers = [run]
        try trainer.run()
        XCTAssertEqual(trainer.step, 6)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: run.imagesURL.path).sorted(),
            ["epoch-0001.png", "step-0000006.png"])
        XCTAssertTrue(
            FileManager.default.fileExists(
                atPath: run.checkpointsURL.appendingPathComponent("step-00000006.safetensors").path))
    }

    func testGridIsPaddedAndLaidOutAsTorchvisionDoes() throws {
        let (config, data, _) = try setup("cgan")
        let trainer = try Trainer(config: config, dataset: data)
        let (samples, labels) = try {
            let grid = try trainer.fixedSamples(count: 20)
            return (grid.images, grid.labels)
        }()
        XCTAssertEqual(labels, (0..<20).map { $0 % 10 })
        let grid = ImageGrid(samples, columns: 10)
        XCTAssertEqual([grid.width, grid.height], [10 * 30 + 2, 2 * 30 + 2])
        XCTAssertEqual(grid.pixels.prefix(grid.width * 2).max(), 0, "2 black rows on top")
        XCTAssertEqual(grid.pixels.max(), 255, "min-max normalised")
        let png = grid.png
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    /// Training 6 steps straight and training 3, checkpointing, restoring into a new trainer and training
    /// 3 more give the same parameters, buffers and optimiser state bit for bit.
    func testResumingGivesTheUninterruptedRunBitForBit() throws {
        for name in ["dcgan", "wgan-gp", "sngan"] {
            let (config, data, _) = try setup(
                name, batches: 4, overrides: ["training.epochs=2", "logging.evaluate_test_split=false"])
            let straight = try Trainer(config: config, dataset: data)
            straight.observers = [StopAt(6, straight)]
            try straight.run()

            let first = try Trainer(config: config, dataset: data)
            first.observers = [StopAt(3, first)]
            try first.run()
            XCTAssertEqual(first.step, 3)
            let url = try Checkpoint.save(first, in: directory.appendingPathComponent(name), keep: 2)
            let second = try Trainer(config: config, dataset: data, resumingFrom: url)
            XCTAssertEqual(second.step, 3)
            second.observers = [StopAt(6, second)]
            try second.run()

            let a = Checkpoint.file(of: straight).tensors, b = Checkpoint.file(of: second).tensors
            XCTAssertEqual(a.names, b.names)
            for tensorName in a.names where a[tensorName] != b[tensorName] {
                XCTFail("\(name): \(tensorName) differs after resuming")
            }
        }
    }

    func testDamagedCheckpointsAreErrorsAndChangeNothing() throws {
        let (config, data, _) = try setup("gan")
        let trainer = try Trainer(config: config, dataset: data)
        // Trained, so that its state differs from the target's and a partial restore would show.
        trainer.observers = [StopAt(2, trainer)]
        try trainer.run()
        let url = try Checkpoint.save(trainer, in: directory, keep: 3)
        let bytes = try Data(contentsOf: url)
        let target = try Trainer(config: config, dataset: data)
        let before = Checkpoint.file(of: target).tensors

        let truncated = directory.appendingPathComponent("truncated.safetensors")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        XCTAssertThrowsError(try Checkpoint.restore(target, from: truncated)) {
            XCTAssertTrue("\($0)".contains(truncated.path), "\($0)")
        }

        var otherConfig = config
        otherConfig.model.classes = 10  // a cGAN's checkpoint for a GAN
        let cgan = try Trainer(config: otherConfig, dataset: data)
        let mismatched = try Checkpoint.save(cgan, in: directory.appendingPathComponent("cgan"), keep: 1)
        XCTAssertThrowsError(try Checkpoint.restore(target, from: mismatched)) { error in
            XCTAssertTrue("\(error)".contains("generator.model.0.weight"), "\(error)")
            XCTAssertTrue("\(error)".contains(mismatched.path), "\(error)")
        }
        // Models that fit, optimiser state that does not: still nothing may change.
        var file = try SafeTensors.read(url)
        file.tensors["optimizer.discriminator.model.4.bias.exp_avg"] = nil
        let noOptimizerState = directory.appendingPathComponent("no-optimizer-state.safetensors")
        try SafeTensors.write(file, to: noOptimizerState)
        XCTAssertThrowsError(try Checkpoint.restore(target, from: noOptimizerState)) {
            XCTAssertTrue("\($0)".contains("optimizer.discriminator.model.4.bias.exp_avg"), "\($0)")
        }
        XCTAssertEqual(Checkpoint.file(of: target).tensors, before, "a failed restore changed the trainer")
        XCTAssertEqual(target.step, 0)
    }

    func testOldCheckpointsArePrunedAndLatestIsTheNewest() throws {
        let (config, data, _) = try setup("gan", batches: 6)
        let trainer = try Trainer(config: config, dataset: data)
        for _ in 0..<4 {
            trainer.observers = [StopAt(trainer.step + 1, trainer)]
            try trainer.run()
            try Checkpoint.save(trainer, in: directory, keep: 2)
        }
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
            ["latest.safetensors", "step-00000003.safetensors", "step-00000004.safetensors"])
        XCTAssertEqual(try Checkpoint.read(directory.appendingPathComponent("latest.safetensors")).step, 4)
    }
}

/// Records what training reports.
final class Recorder: TrainingObserver {
    var steps: [StepMetrics] = []
    var epochs: [(epoch: Int, test: (Float, Float)?)] = []
    func stepFinished(_ metrics: StepMetrics, progress: TrainingProgress) throws { steps.append(metrics) }
    func epochFinished(_ report: EpochReport) throws {
        epochs.append((report.epoch, report.testLosses.map { ($0.discriminator, $0.generator) }))
    }
}

/// Asks `trainer` to stop once it reaches a step (as a signal would).
final class StopAt: TrainingObserver {
    let step: Int
    unowned let trainer: Trainer
    init(_ step: Int, _ trainer: Trainer) { (self.step, self.trainer) = (step, trainer) }
    func trainingStarted(_ start: TrainingStart) throws { trainer.stopRequested = start.step >= step }
    func stepFinished(_ metrics: StepMetrics, progress: TrainingProgress) throws {
        if progress.step >= step { trainer.stopRequested = true }
    }
}

extension TrainingTests {
    /// `logging.evaluate_every` scores the generator during training, into metrics.jsonl and TensorBoard.
    func testEvaluationDuringTrainingIsLogged() throws {
        let (config, data, _) = try setup(
            "cgan", overrides: ["training.epochs=2", "logging.evaluate_every=2", "logging.evaluation_samples=100"])
        let trainer = try Trainer(config: config, dataset: data)
        let run = try RunDirectory(directory.appendingPathComponent("evaluated"), config: config, quiet: true)
        let reference = try ImageDataset.load(directory: Repository.shippedData, split: .test, imageSize: 28).subset(
            0..<500)
        trainer.evaluator = try Evaluator(
            classifier: DigitClassifier.load(Repository.root.appendingPathComponent(config.logging.classifier)),
            reference: reference)
        trainer.observers = [run]
        try trainer.run()
        XCTAssertTrue(trainer.models.generator.isTraining, "evaluation leaves the generator in training mode")
        let lines = try String(contentsOf: run.url.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(
            separator: "\n")
        let evaluations = try lines.compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["kind"] as? String == "evaluation" }
        XCTAssertEqual(evaluations.count, 1, "one evaluation, after epoch 2")
        XCTAssertEqual(evaluations.first?["epoch"] as? Int, 2)
        for key in ["fid", "kid", "inception_score", "label_accuracy"] { XCTAssertNotNil(evaluations.first?[key], key) }
        let events = try FileManager.default.contentsOfDirectory(atPath: run.url.path).first {
            $0.hasPrefix("events.out")
        }!
        let tags = Set(try EventFileReader.read(run.url.appendingPathComponent(events)).values.map(\.tag))
        XCTAssertTrue(
            tags.isSuperset(of: ["quality/fid", "quality/kid", "quality/inception_score", "quality/label_accuracy"]),
            "\(tags)")
    }
}
