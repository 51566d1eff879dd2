import Foundation
import GAN
import TestSupport
import XCTest

/// Training under `mpirun` (launched from here): the same model whatever the number of ranks, bit-identical
/// repeats, a dead rank ending the job, SIGTERM leaving a checkpoint that resumes exactly.
final class DistributedTrainingTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws {
        binary = try Prerequisites.releaseBinary().path
        directory = try Repository.scratchDirectory("mpi")
    }
    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    var binary = ""

    /// `mpirun -np N swiftgan train ...` as `Launch/train` runs it; returns the process, started.
    func launch(ranks: Int, _ arguments: [String], output: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = MPIJob.launcher(ranks: ranks) + [binary, "train", "--quiet"] + arguments
        process.currentDirectoryURL = Repository.root
        process.environment = MPIJob.environment
        let log = output ?? directory.appendingPathComponent("log-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    func train(
        ranks: Int, config: String, runDir: String, extra: [String] = [], steps: Int = 20
    ) throws -> SafeTensors.File {
        let run = directory.appendingPathComponent(runDir)
        let log = directory.appendingPathComponent("\(runDir)-\(UUID().uuidString).log")
        let process = try launch(
            ranks: ranks,
            [
                "--config", "Configs/\(config).yaml", "--run-dir", run.path, "--max-steps", "\(steps)",
                "--set", "logging.evaluate_test_split=false",
            ] + extra, output: log)
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, "\(config) on \(ranks) ranks: \(text.suffix(2000))")
        return try SafeTensors.read(run.appendingPathComponent("checkpoints/latest.safetensors"))
    }

    /// Largest difference between two checkpoints' float tensors, relative to each tensor's largest value.
    func worstDifference(_ a: SafeTensors.File, _ b: SafeTensors.File) -> (Float, String) {
        var worst: (Float, String) = (0, "")
        for name in a.tensors.names {
            guard case let .float32(x)? = a.tensors[name]?.values, case let .float32(y)? = b.tensors[name]?.values
            else { continue }
            let error = relativeError(y, x)
            if error > worst.0 { worst = (error, name) }
        }
        return worst
    }

    /// ‖Δa − Δb‖ / ‖Δa‖ over all of one network's float tensors, where Δ is the change from `base`.
    func updateDifference(
        base: SafeTensors.File, _ a: SafeTensors.File, _ b: SafeTensors.File, network: String
    ) -> Double {
        DeviceSelfTest.updateDifference(base: base, a, b, network: network)
    }

    /// The central property: a training step on 2 or 4 ranks is the step on 1 rank.
    /// - From the start, one step of the same global batch on 1, 2 and 4 ranks gives every parameter, buffer and
    ///   running statistic to 1e-5 of its tensor's scale (measured: about 1e-6).
    /// - From the 1-rank run's state after 19 steps, the 20th step's update on 2 and 4 ranks matches the 1-rank
    ///   update to 1e-4 of its size per network (measured: at most 1.2e-5, sngan's generator). Keying the noise
    ///   by local instead of global sample position, for instance, gave 2.0 on the first step and 2.5e-2 here.
    /// With determinism (next test), a run on any world size is the same computation.
    ///
    /// Why not compare parameters after 20 steps? Measured with `sngan`, 1 and 2 ranks agree to 7e-7 after 2 steps and
    /// differ by 2e-3 after 5: a pre-activation within rounding of a ReLU kink lands on the other side in one
    /// run, and the training dynamics amplify it (PyTorch DDP behaves the same; README, "Distributed training").
    /// SGD at the config's learning rate is used so that parameter differences are gradient differences: Adam's
    /// first steps move a parameter by about ±lr whatever its gradient's size, so a rounding-level gradient
    /// would decide them.
    func testAStepOnTwoOrFourRanksIsTheStepOnOne() throws {
        for config in ["dcgan", "wgan-gp", "sngan"] {
            let loaded = try TrainingConfig.load(Repository.config(config))
            let sgd = [
                "--set", "optimizer.generator.kind=sgd", "--set", "optimizer.discriminator.kind=sgd",
                "--set", "optimizer.generator.learning_rate=\(loaded.generatorOptimizer.learningRate)",
                "--set", "optimizer.discriminator.learning_rate=\(loaded.discriminatorOptimizer.learningRate)",
                "--set", "logging.keep_checkpoints=1",
            ]
            let fresh = try [1, 2, 4].map {
                try train(ranks: $0, config: config, runDir: "\(config)-fresh-\($0)", extra: sgd, steps: 1)
            }
            for (index, ranks) in [2, 4].enumerated() {
                let (error, name) = worstDifference(fresh[0], fresh[index + 1])
                XCTAssertLessThanOrEqual(
                    error, 1e-5, "\(config) first step: 1 vs \(ranks) ranks differ by \(error) in \(name)")
                XCTAssertEqual(fresh[index + 1].metadata["world_size"], "\(ranks)")
            }
            let base = try train(ranks: 1, config: config, runDir: "\(config)-base", extra: sgd, steps: 19)
            let later = try [1, 2, 4].map { ranks -> SafeTensors.File in
                let copy = directory.appendingPathComponent("\(config)-later-\(ranks)")
                try FileManager.default.copyItem(at: directory.appendingPathComponent("\(config)-base"), to: copy)
                return try train(
                    ranks: ranks, config: config, runDir: copy.lastPathComponent, extra: sgd + ["--resume"], steps: 20)
            }
            for (index, ranks) in [2, 4].enumerated() {
                for network in ["generator", "discriminator"] {
                    let difference = updateDifference(base: base, later[0], later[index + 1], network: network)
                    XCTAssertLessThanOrEqual(
                        difference, 1e-4,
                        "\(config) step 20, \(network): 1 vs \(ranks) ranks' updates differ by \(difference)")
                }
            }
        }
    }

    /// With the configs' own optimisers: two runs on 2 ranks are identical bit for bit, and so are overlapped
    /// and blocking gradient averaging, and one thread per rank (the default on 2 cores) and two.
    func testRepeatsOverlapAndThreadsAreBitIdentical() throws {
        for config in ["dcgan", "sngan"] {
            let first = try train(ranks: 2, config: config, runDir: "\(config)-a")
            let second = try train(ranks: 2, config: config, runDir: "\(config)-b")
            let blocking = try train(ranks: 2, config: config, runDir: "\(config)-c", extra: ["--no-overlap"])
            let threaded = try train(ranks: 2, config: config, runDir: "\(config)-d", extra: ["--threads", "2"])
            XCTAssertEqual(first.tensors, second.tensors, "\(config): two runs on 2 ranks")
            XCTAssertEqual(first.tensors, blocking.tensors, "\(config): overlap on and off")
            XCTAssertEqual(first.tensors, threaded.tensors, "\(config): 1 and 2 threads per rank")
        }
    }

    /// Reproducible mode (`--reproducible`): 20 steps with the configs' own optimisers give byte-identical
    /// checkpoint tensors on 1, 2 and 4 ranks (and 16 for dcgan), on 2 ranks with 2 threads each, and when
    /// 1 rank's run is resumed halfway on 4. The same runs without it
    /// differ (94 of dcgan's 101 tensors did when this was written): the equality is the mode's doing.
    /// `cgan` covers the embedding's gradient, `wgan-gp` the gradient penalty, `sngan` spectral norm.
    func testReproducibleModeGivesTheSameBitsOnAnyNumberOfRanks() throws {
        for config in ["dcgan", "wgan-gp", "sngan", "cgan"] {
            let reproducible = ["--reproducible", "--set", "logging.keep_checkpoints=1"]
            let one = try train(ranks: 1, config: config, runDir: "\(config)-r1", extra: reproducible)
            let worlds = config == "cgan" ? [2] : [2, 4]
            for ranks in worlds {
                let other = try train(
                    ranks: ranks, config: config, runDir: "\(config)-r\(ranks)", extra: reproducible)
                XCTAssertEqual(one.tensors, other.tensors, "\(config), reproducible: 1 and \(ranks) ranks differ")
                XCTAssertEqual(other.metadata["world_size"], "\(ranks)")
            }
            if config == "dcgan" {
                let threaded = try train(
                    ranks: 2, config: config, runDir: "\(config)-r2t", extra: reproducible + ["--threads", "2"])
                XCTAssertEqual(one.tensors, threaded.tensors, "dcgan, reproducible: 2 ranks of 2 threads")
                // One chunk per rank: every level of the tree is an exchange between ranks (6 s on 2 cores).
                let sixteen = try train(ranks: 16, config: config, runDir: "\(config)-r16", extra: reproducible)
                XCTAssertEqual(one.tensors, sixteen.tensors, "dcgan, reproducible: 1 and 16 ranks differ")
                // 10 steps on 1 rank, resumed on 4 ranks for the other 10.
                _ = try train(ranks: 1, config: config, runDir: "\(config)-switch", extra: reproducible, steps: 10)
                let switched = try train(
                    ranks: 4, config: config, runDir: "\(config)-switch", extra: reproducible + ["--resume"])
                XCTAssertEqual(one.tensors, switched.tensors, "dcgan, reproducible: 1 rank resumed on 4")
                let plain = try [1, 2].map {
                    try train(
                        ranks: $0, config: config, runDir: "\(config)-p\($0)",
                        extra: ["--set", "logging.keep_checkpoints=1"])
                }
                XCTAssertNotEqual(
                    plain[0].tensors, plain[1].tensors, "the default mode is expected to differ by world size")
            }
        }
    }

    /// Reproducible mode needs chunks that split evenly: a world size that does not divide the chunk count is
    /// a config error naming the key, on every rank, before training.
    func testReproducibleModeRefusesWorldSizesThatDoNotDivideTheChunks() throws {
        let log = directory.appendingPathComponent("three.log")
        let process = try launch(
            ranks: 3,
            [
                "--config", "Configs/dcgan.yaml", "--run-dir", directory.appendingPathComponent("three").path,
                "--reproducible", "--set", "training.batch_size=48", "--max-steps", "1",
            ], output: log)
        process.waitUntilExit()
        let text = try String(contentsOf: log, encoding: .utf8)
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertTrue(text.contains("training.reproducible_chunks"), text)
        XCTAssertTrue(text.contains("3 ranks cannot share 16 chunks"), text)
    }

    /// Waits until rank 0 has written its first metrics record (training is under way), or fails with the log.
    func waitForTraining(_ run: URL, _ process: Process, log: URL) throws {
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let deadline = Date().addingTimeInterval(60)
        while (try? Data(contentsOf: metrics))?.isEmpty ?? true, process.isRunning, Date() < deadline { usleep(50_000) }
        guard process.isRunning, !((try? Data(contentsOf: metrics))?.isEmpty ?? true) else {
            throw Python.Failure(
                description: "training did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
    }

    func testAKilledRankEndsTheJob() throws {
        let run = directory.appendingPathComponent("killed"), log = directory.appendingPathComponent("killed.log")
        let process = try launch(
            ranks: 2,
            ["--config", "Configs/gan.yaml", "--run-dir", run.path, "--epochs", "50", "--set", "logging.log_every=5"],
            output: log)
        try waitForTraining(run, process, log: log)
        let ranks = try childProcesses(of: process.processIdentifier).filter {
            try commandLine($0).contains("swiftgan")
        }
        XCTAssertEqual(ranks.count, 2, "rank processes of mpirun")
        guard let victim = ranks.last else {
            process.terminate()
            return
        }
        kill(victim, SIGKILL)
        let killed = Date()
        while process.isRunning, Date().timeIntervalSince(killed) < 30 { usleep(100_000) }
        XCTAssertFalse(process.isRunning, "the job still runs 30 s after a rank died")
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
    }

    /// SIGTERM to every rank (what SLURM sends before preemption): the ranks stop after the same step, rank 0
    /// writes a checkpoint, all exit 0; `--resume` then reaches the uninterrupted run's parameters bit for bit.
    func testSIGTERMLeavesACheckpointThatResumesExactly() throws {
        let common = [
            "--config", "Configs/gan.yaml", "--set", "training.batch_size=32", "--set",
            "logging.evaluate_test_split=false",
            "--set", "logging.checkpoint_every=1000", "--max-steps", "600",
        ]
        let run = directory.appendingPathComponent("preempted"), log = directory.appendingPathComponent("preempted.log")
        let process = try launch(
            ranks: 2, common + ["--run-dir", run.path, "--set", "logging.log_every=5"], output: log)
        try waitForTraining(run, process, log: log)
        for rank in try childProcesses(of: process.processIdentifier) where try commandLine(rank).contains("swiftgan") {
            kill(rank, SIGTERM)
        }
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let stopped = try Checkpoint.read(run.appendingPathComponent("checkpoints/latest.safetensors"))
        XCTAssertGreaterThan(stopped.step, 0)
        XCTAssertLessThan(stopped.step, 600, "SIGTERM arrived after the run ended; nothing was tested")

        let resumed = try launch(
            ranks: 2, common + ["--run-dir", run.path, "--resume", "--set", "logging.log_every=5"])
        resumed.waitUntilExit()
        XCTAssertEqual(resumed.terminationStatus, 0)
        let straight = try launch(
            ranks: 2,
            common + ["--run-dir", directory.appendingPathComponent("straight").path, "--set", "logging.log_every=5"])
        straight.waitUntilExit()
        let a = try SafeTensors.read(run.appendingPathComponent("checkpoints/latest.safetensors"))
        let b = try SafeTensors.read(directory.appendingPathComponent("straight/checkpoints/latest.safetensors"))
        XCTAssertEqual(a.metadata["step"], "600")
        XCTAssertEqual(a.tensors, b.tensors, "resumed after SIGTERM at step \(stopped.step)")
    }

    /// SIGTERM or SIGINT to the launcher (what `scancel` and Ctrl-C do) with steps of several seconds
    /// (`dcgan64` on 2 ranks), longer than the 2 s mpirun gives its ranks after forwarding a signal:
    /// `Launch/train` hands the signal to the ranks, which finish the step, checkpoint and exit 0.
    func testStoppingLaunchTrainCheckpointsEvenWithLongSteps() throws {
        for signalNumber in [SIGTERM, SIGINT] {
            let run = directory.appendingPathComponent("long-\(signalNumber)")
            let log = directory.appendingPathComponent("long-\(signalNumber).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = Process()
            process.executableURL = Repository.root.appendingPathComponent("Launch/train")
            process.arguments = [
                "-np", "2", "--config", "Configs/dcgan64.yaml", "--run-dir", run.path,
                "--set", "logging.evaluate_test_split=false", "--epochs", "1",
            ]
            process.currentDirectoryURL = Repository.root
            var environment = MPIJob.environment
            environment["SWIFTGAN_BINARY"] = binary
            process.environment = environment
            let handle = try FileHandle(forWritingTo: log)
            (process.standardOutput, process.standardError) = (handle, handle)
            try process.run()
            // Under way: both ranks have built their models and rank 0 holds the run's lock.
            let deadline = Date().addingTimeInterval(120)
            while process.isRunning, Date() < deadline,
                !((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("training dcgan64")
            {
                usleep(100_000)
            }
            let started = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("training dcgan64")
            XCTAssertTrue(started, "training did not start within 120 s")
            sleep(3)  // inside the first step, which takes several seconds here
            XCTAssertTrue(process.isRunning, "the run ended before the signal")
            let signalled = Date()
            kill(process.processIdentifier, signalNumber)
            process.waitUntilExit()
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            XCTAssertEqual(process.terminationStatus, 0, "signal \(signalNumber): \(text.suffix(1500))")
            let checkpoint = try Checkpoint.read(run.appendingPathComponent("checkpoints/latest.safetensors"))
            XCTAssertGreaterThan(checkpoint.step, 0)
            XCTAssertLessThan(checkpoint.step, 78, "stopped early, not at the end of the epoch")
            XCTAssertGreaterThan(Date().timeIntervalSince(signalled), 2, "the step outlived mpirun's 2 s")
        }
    }

    func childProcesses(of parent: Int32) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }
    }

    func commandLine(_ pid: Int32) throws -> String {
        (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.replacingOccurrences(
            of: "\0", with: " ") ?? ""
    }
}
