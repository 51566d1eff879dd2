import Foundation
import GAN
import TestSupport
import XCTest

/// What a user can get wrong or do to a run (issue 14): each class is refused with a one-line error and a
/// non-zero exit, never a signal, and nothing already written is lost.
final class RobustnessTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try Repository.scratchDirectory("robust") }
    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    /// Runs `swiftgan arguments` to the end; its status, how it ended, and its stderr.
    @discardableResult
    func swiftgan(
        _ arguments: [String], stderr: FileHandle? = nil
    ) throws -> (status: Int32, exited: Bool, errors: String) {
        let process = Process()
        process.executableURL = try Prerequisites.releaseBinary()
        process.arguments = arguments
        process.currentDirectoryURL = Repository.root
        let pipe = Pipe()
        process.standardError = stderr ?? pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errors =
            stderr == nil ? String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .exit, errors)
    }

    func train(_ runDir: URL, _ extra: [String] = [], config: String = "gan") -> [String] {
        ["train", "--config", "Configs/\(config).yaml", "--run-dir", runDir.path, "--quiet", "--max-steps", "3"] + extra
    }

    // MARK: - 1. One training per run directory

    func testARunDirectoryHasOneTrainingAtATime() throws {
        let run = directory.appendingPathComponent("locked")
        var first: RunLock? = try RunLock(run)
        XCTAssertThrowsError(try RunLock(run)) {
            XCTAssertTrue("\($0)".contains("in use by another training (pid \(getpid()))"), "\($0)")
        }
        first = nil
        XCTAssertNil(first)
        XCTAssertNoThrow(try RunLock(run), "the lock goes with the process (here: the object) that held it")

        // Through the command line: a second training into a directory that a live one holds is refused,
        // resumed or not, and the first one's files are untouched.
        let live = Process()
        live.executableURL = try Prerequisites.releaseBinary()
        live.arguments = [
            "train", "--config", "Configs/gan.yaml", "--run-dir", run.appendingPathComponent("x").path, "--quiet",
            "--epochs", "50",
        ]
        live.currentDirectoryURL = Repository.root
        live.standardError = FileHandle.nullDevice
        try live.run()
        defer {
            if live.isRunning { live.terminate() }
            live.waitUntilExit()
        }
        let config = run.appendingPathComponent("x/config.yaml")
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: config.path), live.isRunning, Date() < deadline { usleep(50_000) }
        let before = try String(contentsOf: config, encoding: .utf8)
        for extra in [["--seed", "5"], ["--resume"]] {
            let second = try swiftgan(train(run.appendingPathComponent("x"), extra))
            XCTAssertTrue(second.exited)
            XCTAssertNotEqual(second.status, 0)
            XCTAssertTrue(
                second.errors.contains("is in use by another training (pid \(live.processIdentifier))"), second.errors)
        }
        XCTAssertEqual(try String(contentsOf: config, encoding: .utf8), before)
    }

    // MARK: - 3. Resume continues the same run

    func testResumeRefusesAnotherRunAndSaysWhichKeys() throws {
        let gan = try TrainingConfig.load(Repository.config("gan"))
        var longer = gan
        longer.training.epochs = 500
        longer.logging.logEvery = 7
        longer.runtime.device = .cuda(0)
        XCTAssertEqual(longer.changesToTheRun(from: gan), [], "epochs, logging and device may change")
        var reseeded = gan
        reseeded.seed = 5
        reseeded.training.batchSize = 32
        XCTAssertEqual(reseeded.changesToTheRun(from: gan), ["seed (0 → 5)", "training.batch_size (64 → 32)"])
        XCTAssertTrue(
            try TrainingConfig.load(Repository.config("wgan-gp")).changesToTheRun(from: gan).contains(
                "loss.kind (bce → wasserstein)"))

        let run = directory.appendingPathComponent("resumed")
        XCTAssertEqual(try swiftgan(train(run)).status, 0)
        let refused = try swiftgan(train(run, ["--resume", "--seed", "3"]))
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.errors.contains("was trained with another config: seed (0 → 3)"), refused.errors)
        let continued = try swiftgan(train(run, ["--resume", "--max-steps", "5", "--set", "logging.log_every=1"]))
        XCTAssertEqual(continued.status, 0, continued.errors)
    }

    // MARK: - 9. A killed run leaves no residue

    func testResumeClearsWhatAKilledRunLeftBehind() throws {
        let run = directory.appendingPathComponent("residue")
        XCTAssertEqual(try swiftgan(train(run, ["--set", "logging.log_every=1"])).status, 0)
        // As if killed after logging steps 4 and 5 and while writing their checkpoint.
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let handle = try FileHandle(forWritingTo: metrics)
        try handle.seekToEnd()
        let records = [#"{"kind": "step", "step": 4, "epoch": 1}"#, #"{"kind": "step", "step": 5, "epoch": 1}"#]
        try handle.write(contentsOf: Data(records.map { $0 + "\n" }.joined().utf8))
        try handle.close()
        let stale = run.appendingPathComponent("checkpoints/.step-00000005.safetensors.tmp-99999")
        try Data(count: 100).write(to: stale)

        let resumed = try swiftgan(train(run, ["--resume", "--max-steps", "5", "--set", "logging.log_every=1"]))
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        let steps = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]).flatMap {
                $0["kind"] as? String == "step" ? $0["step"] as? Int : nil
            }
        }
        XCTAssertEqual(steps, [1, 2, 3, 4, 5], "each step's record once")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
    }

    // MARK: - 5, 6. Bad input is an error, never a crash

    /// Paths that are not what they should be: one line naming the path and what is wrong, in words rather
    /// than Foundation's error dump, and a file that is not what its reader reads named for its own format.
    func testFileProblemsNameThePathInWords() throws {
        let file = directory.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let run = directory.appendingPathComponent("run")
        XCTAssertEqual(try swiftgan(train(run)).status, 0)
        let checkpoint = run.appendingPathComponent("checkpoints/latest.safetensors").path
        let cases: [([String], String)] = [
            (train(file), "\(file.path): something of that name is already there"),
            (["train", "--config", "Configs", "--max-steps", "1"], "Configs: cannot read the file: it is a folder"),
            (
                [
                    "sample", "--checkpoint", checkpoint, "--out",
                    directory.appendingPathComponent("missing/x.png").path,
                ],
                "missing/x.png: no such file or folder"
            ),
            (["evaluate", "--samples", file.path], "is not a valid .npy file"),
        ]
        for (arguments, expected) in cases {
            let result = try swiftgan(arguments)
            XCTAssertTrue(result.exited && result.status != 0, "\(arguments): \(result)")
            XCTAssertFalse(result.errors.contains("NSCocoaErrorDomain") || result.errors.contains("IDX"), result.errors)
            XCTAssertEqual(result.errors.split(separator: "\n").count, 1, result.errors)
            XCTAssertTrue(result.errors.contains(expected), "\(arguments): \(result.errors)")
        }
        let events = directory.appendingPathComponent("events.out.tfevents.1")
        try Data("bad".utf8).write(to: events)
        let inspected = try swiftgan(["inspect", events.path])
        XCTAssertTrue(inspected.errors.contains("not a valid TensorBoard event file"), inspected.errors)
    }

    /// Under mpirun on 1, 2 and 4 ranks, bad input ends every rank with the error and a non-zero exit (no
    /// rank left waiting in a collective, no crash): a bad value, a run directory that is a file, and a
    /// resume from a damaged checkpoint.
    func testBadInputUnderMpirunEndsTheJobWithTheError() throws {
        let binary = try Prerequisites.releaseBinary()
        let file = directory.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let damaged = directory.appendingPathComponent("damaged/checkpoints")
        try FileManager.default.createDirectory(at: damaged, withIntermediateDirectories: true)
        try Data("not a checkpoint".utf8).write(to: damaged.appendingPathComponent("latest.safetensors"))
        let cases: [([String], String)] = [
            (train(directory.appendingPathComponent("x"), ["--set", "training.batch_size=0"]), "training.batch_size"),
            (train(file), "a-file"),
            (train(damaged.deletingLastPathComponent(), ["--resume"]), "latest.safetensors"),
        ]
        for ranks in [1, 2, 4] {
            for (arguments, expected) in cases {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = MPIJob.launcher(ranks: ranks) + [binary.path] + arguments
                process.currentDirectoryURL = Repository.root
                process.environment = MPIJob.environment
                let pipe = Pipe()
                (process.standardError, process.standardOutput) = (pipe, pipe)
                try process.run()
                let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                XCTAssertNotEqual(process.terminationStatus, 0, "\(ranks) ranks, \(arguments): \(output)")
                XCTAssertTrue(output.contains(expected), "\(ranks) ranks, \(arguments): \(output)")
                // Ranks that MPI_Abort stops are killed by design; a crash of our own is not.
                for crash in ["Fatal error", "Segmentation fault", "Illegal instruction", "Floating point exception"] {
                    XCTAssertFalse(output.contains(crash), "\(ranks) ranks, \(arguments): \(output)")
                }
            }
        }
    }

    func testBadCountsAndSamplesAreOneLineErrors() throws {
        let run = directory.appendingPathComponent("sampled")
        XCTAssertEqual(try swiftgan(train(run)).status, 0)
        let checkpoint = run.appendingPathComponent("checkpoints/latest.safetensors").path
        let samples = directory.appendingPathComponent("samples")
        try FileManager.default.createDirectory(at: samples, withIntermediateDirectories: true)
        func npy(_ name: String, _ shape: [Int], value: Float = 0) throws -> String {
            let url = samples.appendingPathComponent(name)
            try NumpyFile.write(.float32([Float](repeating: value, count: shape.reduce(1, *))), shape: shape, to: url)
            return url.path
        }
        let cases: [([String], String)] = [
            (
                ["sample", "--checkpoint", checkpoint, "--count", "0", "--out", "x.png"],
                "--count must be in 1...1000000"
            ),
            (
                ["sample", "--checkpoint", checkpoint, "--count", "1000000000", "--out", "x.npy"],
                "--count must be in 1...1000000"
            ),
            (
                ["sample", "--checkpoint", checkpoint, "--noise", try npy("z0.npy", [0, 100]), "--out", "x.npy"],
                "holds no samples"
            ),
            (["evaluate", "--checkpoint", checkpoint, "--count", "0"], "--count must be in 2...1000000"),
            (["evaluate", "--samples", try npy("none.npy", [0, 1, 28, 28])], "at least 2 samples"),
            (["evaluate", "--samples", try npy("wide.npy", [4, 1, 28, 20])], "expected square images"),
            (["evaluate", "--samples", try npy("nan.npy", [4, 1, 28, 28], value: .nan)], "must be finite"),
            (["evaluate", "--samples", try npy("ok.npy", [4, 1, 28, 28]), "--checkpoint", checkpoint], "not both"),
            (["bench", "--config", "Configs/gan.yaml", "--steps", "0"], "--steps must be at least 1"),
        ]
        for (arguments, expected) in cases {
            let result = try swiftgan(arguments)
            XCTAssertTrue(result.exited, "\(arguments) died by a signal")
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.errors.contains(expected), "\(arguments): \(result.errors)")
        }
    }

    /// Values that are not finite are null in the evaluation's JSON; a conditional model with fewer classes
    /// than the data's labels is refused before training, naming the key.
    func testNonFiniteScoresAndTooFewClassesAreCaught() throws {
        let report = Evaluator.Report(
            count: 2, fid: .nan, kid: .infinity, inceptionScore: 1, classShares: [.nan, 1], labelAccuracy: .nan)
        let parsed = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any]
        XCTAssertTrue(parsed?["fid"] is NSNull, report.json)
        XCTAssertTrue(parsed?["kid"] is NSNull, report.json)

        var config = try TrainingConfig.load(Repository.config("cgan"))
        config.model.classes = 3
        let data = try ImageDataset.load(directory: Repository.shippedData, split: .test, imageSize: 28).subset(0..<256)
        XCTAssertThrowsError(try Trainer(config: config, dataset: data)) {
            XCTAssertTrue("\($0)".hasPrefix("model.classes: 3 classes, but"), "\($0)")
        }
    }

    /// The evaluator itself refuses what it cannot score, whoever calls it.
    func testTheEvaluatorRefusesSamplesItCannotScore() throws {
        let reference = try ImageDataset.load(directory: Repository.shippedData, split: .test, imageSize: 28).subset(
            0..<100)
        let judge = try DigitClassifier.load(
            Repository.root.appendingPathComponent("Data/classifiers/mnist-lenet.safetensors"))
        let evaluator = try Evaluator(classifier: judge, reference: reference)
        let samples = Tensor(zeros: [4, 1, 28, 28])
        for (labels, expected) in [([1, 2, 3], "expected 4 labels in 0...9, got 3"), ([1, 2, 3, 10], "(one is 10)")] {
            XCTAssertThrowsError(try evaluator.evaluate(samples: samples, labels: labels)) {
                XCTAssertTrue("\($0)".contains(expected), "\($0)")
            }
        }
        XCTAssertThrowsError(try evaluator.evaluate(samples: Tensor(zeros: [4, 1, 28, 20]), labels: nil)) {
            XCTAssertTrue("\($0)".contains("expected square images"), "\($0)")
        }
        XCTAssertNoThrow(try evaluator.evaluate(samples: samples, labels: [0, 1, 2, 3]))
    }

    func testADamagedCheckpointStepIsAnError() throws {
        let (config, data) = (
            try TrainingConfig.load(Repository.config("gan")),
            try ImageDataset.load(directory: Repository.shippedData, split: .test, imageSize: 28).subset(0..<128)
        )
        let trainer = try Trainer(config: config, dataset: data)
        var file = Checkpoint.file(of: trainer)
        for step in ["-5", "9223372036854775807"] {
            file.metadata["step"] = step
            let url = directory.appendingPathComponent("step\(step).safetensors")
            try SafeTensors.write(file, to: url)
            XCTAssertThrowsError(try Checkpoint.read(url)) {
                XCTAssertTrue("\($0)".contains("a step in 0...99999999"), "\($0)")
            }
        }
    }

    // MARK: - 8. No silent defaults

    func testMissingValuesDuplicatesAndEmptyConfigsAreErrors() {
        func error(_ yaml: String, _ overrides: [String] = []) -> String {
            do {
                _ = try TrainingConfig.parse(yaml, file: "my.yaml", overrides: overrides)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(
            error("model:\n  architecture:\n"),
            "my.yaml: model.architecture: no value; give one, or remove the key to keep its default")
        XCTAssertEqual(error("model: ~\n"), "my.yaml: model: no value; give one, or remove the key to keep its default")
        XCTAssertEqual(error("seed: 1\nseed: 2\n"), "my.yaml: seed: the key appears twice")
        XCTAssertEqual(error("training: {epochs: 1, epochs: 2}\n"), "my.yaml: training.epochs: the key appears twice")
        XCTAssertEqual(error(""), "my.yaml: the config is empty (a config names at least its model)")
        XCTAssertEqual(error("# only a comment\n"), "my.yaml: the config is empty (a config names at least its model)")
        XCTAssertEqual(
            error("name: x\n", ["model.architecture="]),
            "my.yaml: model.architecture: --set gives no value (key.path=value)")
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        XCTAssertTrue(error("name: \(deep)\n").contains("nested deeper than any config"))
        let indented = (0..<5000).map { String(repeating: "  ", count: $0) + "a\($0):" }.joined(separator: "\n")
        XCTAssertTrue(error(indented).contains("nested deeper than any config"))
    }

    // MARK: - 4. Signals and broken outputs do not cost the run

    func testAFullOrClosedStderrDoesNotStopTraining() throws {
        let full = try swiftgan(
            train(directory.appendingPathComponent("full")).filter { $0 != "--quiet" },
            stderr: FileHandle(forWritingAtPath: "/dev/full"))
        XCTAssertTrue(full.exited)
        XCTAssertEqual(full.status, 0)
        XCTAssertTrue(
            FileManager.default.fileExists(
                atPath: directory.appendingPathComponent("full/checkpoints/latest.safetensors").path))

        // stderr into a pipe whose reader has gone (`swiftgan train ... 2>&1 | head -2`).
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        let closed = try swiftgan(
            train(directory.appendingPathComponent("closed")).filter { $0 != "--quiet" },
            stderr: pipe.fileHandleForWriting)
        XCTAssertTrue(closed.exited)
        XCTAssertEqual(closed.status, 0)
        XCTAssertTrue(
            FileManager.default.fileExists(
                atPath: directory.appendingPathComponent("closed/checkpoints/latest.safetensors").path))
    }

    func testSIGHUPCheckpointsLikeSIGTERM() throws {
        let run = directory.appendingPathComponent("hangup")
        let process = Process()
        process.executableURL = try Prerequisites.releaseBinary()
        process.arguments = [
            "train", "--config", "Configs/gan.yaml", "--run-dir", run.path, "--quiet", "--epochs", "50",
        ]
        process.currentDirectoryURL = Repository.root
        try process.run()
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let deadline = Date().addingTimeInterval(30)
        while (try? Data(contentsOf: metrics))?.isEmpty ?? true, process.isRunning, Date() < deadline { usleep(50_000) }
        kill(process.processIdentifier, SIGHUP)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
        let step = try Checkpoint.read(run.appendingPathComponent("checkpoints/latest.safetensors")).step
        XCTAssertGreaterThan(step, 0)
    }
}
