import Foundation
import GAN
import TestSupport
import XCTest

/// Devices: the CUDA backend against the CPU on a GPU machine, and what a user sees where there is none.
final class DeviceTests: XCTestCase {
    /// Where there is no GPU, asking for one is one line naming what is missing; where there is, a device
    /// that does not exist is.
    func testAMissingGPUIsAOneLineError() throws {
        let missing: Device = Device.cudaDeviceCount == 0 ? .cuda(0) : .cuda(99)
        XCTAssertThrowsError(try Tensor(zeros: [2]).to(missing)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("cuda: "), text)
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(
                ["libcuda.so.1", "no CUDA-capable GPU", "does not exist", "libnvrtc", "libcublas"].contains {
                    text.contains($0)
                }, text)
        }
        var config = try TrainingConfig.load(Repository.config("gan"))
        config.runtime.device = missing
        XCTAssertThrowsError(try GANModels(config)) { XCTAssertTrue("\($0)".hasPrefix("cuda: "), "\($0)") }
    }

    func testDevicesParseAsPyTorchSpellsThem() throws {
        XCTAssertEqual(try Device(parsing: "cpu"), .cpu)
        XCTAssertEqual(try Device(parsing: "cuda"), .cuda(0))
        XCTAssertEqual(try Device(parsing: "cuda:3"), .cuda(3))
        for bad in ["gpu", "cuda:", "cuda:-1", "CUDA"] { XCTAssertThrowsError(try Device(parsing: bad), bad) }
        XCTAssertThrowsError(try TrainingConfig.parse("runtime: {device: tpu}", file: "x.yaml")) {
            XCTAssertTrue("\($0)".contains("runtime.device"), "\($0)")
        }
        XCTAssertEqual(try TrainingConfig.parse("runtime: {device: cuda:1}", file: "x.yaml").runtime.device, .cuda(1))
    }

    /// The self-test's measure: the CPU against itself is exactly 0 for every operation, and a NaN fails.
    func testTheSelfTestMeasuresWhatItSays() throws {
        let checks = try DeviceSelfTest.operations(device: .cpu)
        XCTAssertGreaterThan(checks.count, 60)
        for check in checks { XCTAssertEqual(check.error, 0, check.name) }
        XCTAssertEqual(DeviceSelfTest.error([2, -4], [2, -3.5]), 0.125)
        XCTAssertFalse(DeviceSelfTest.Check(name: "nan", error: DeviceSelfTest.error([1], [.nan]), tolerance: 1).passed)
    }

    /// The CUDA backend against the CPU: every operation, the networks and training steps of five configs
    /// (`swiftgan self-test --device cuda` runs all nine and 20 steps).
    func testCUDAMatchesTheCPU() throws {
        guard Device.cudaDeviceCount > 0 else {
            throw XCTSkip("no CUDA GPU on this machine (no driver or no device); run on the GPU machine")
        }
        let configs = try ["gan", "cgan", "wgan-gp", "dcgan", "sngan"].map {
            try TrainingConfig.load(Repository.config($0))
        }
        var failures: [String] = []
        let passed = try DeviceSelfTest.run(device: .cuda(0), configs: configs, steps: 5) {
            if !$0.passed { failures.append("\($0)") }
        }
        XCTAssertTrue(passed, failures.joined(separator: "\n"))
    }
}
