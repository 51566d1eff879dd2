import ArgumentParser
import Distributed
import Foundation
import GAN

/// Checks a device against the CPU: every operation, every config's networks, and training steps.
struct SelfTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-test",
        abstract:
            "Compare a device with the CPU from the same state: operations, networks and training steps of every config.",
        discussion:
            "Each line gives a relative error at its tensor's scale against its tolerance; the exit status is 1 if any fails."
    )

    @Option(help: "The device to check: cuda or cuda:N.") var device = "cuda"
    @Option(parsing: .upToNextOption, help: "Configs to train (default: every Configs/*.yaml).") var configs: [String] =
        []
    @Option(help: "The training step whose update is compared.") var steps = 20

    func validate() throws {
        guard steps >= 2 else { throw ValidationError("--steps must be at least 2") }
    }

    func run() throws {
        Launcher.useThreads(0, LocalCommunicator())
        let target = try Device(parsing: device)
        _ = try target.backend  // a missing driver or library is a one-line error here
        let names =
            configs.isEmpty
            ? try FileManager.default.contentsOfDirectory(atPath: "Configs").filter { $0.hasSuffix(".yaml") }.sorted()
                .map { "Configs/\($0)" }
            : configs
        let loaded = try names.map { try TrainingConfig.load(URL(fileURLWithPath: $0)) }
        print("self-test: \(target) against cpu, \(loaded.count) configs, update of step \(steps)")
        var failures = 0, total = 0
        let passed = try DeviceSelfTest.run(device: target, configs: loaded, steps: steps) { check in
            total += 1
            if !check.passed { failures += 1 }
            print(check)
        }
        print("self-test: \(total - failures) passed, \(failures) failed")
        if !passed { throw ExitCode(1) }
    }
}
