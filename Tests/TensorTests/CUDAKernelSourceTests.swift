import Foundation
import XCTest

@testable import Tensor

/// The CUDA kernels compiled by the real NVRTC, which needs no GPU: every kernel the backend launches must be
/// in the module, and a compile error must come back as one line. `Launch/test` installs NVRTC (PyPI's
/// nvidia-cuda-nvrtc) and names its folder in SWIFTGAN_NVRTC_DIR; plain `swift test` skips where it is absent.
final class CUDAKernelSourceTests: XCTestCase {
    func compiler() throws -> CUDACompiler {
        let directory = ProcessInfo.processInfo.environment["SWIFTGAN_NVRTC_DIR"]
        do {
            return try CUDACompiler(directory: directory)
        } catch {
            guard directory == nil else { throw error }
            throw XCTSkip("NVRTC is not installed (\(error)); Launch/test installs it and runs this test")
        }
    }

    func testEveryKernelCompilesForTheH100AndA100() throws {
        let nvrtc = try compiler()
        for architecture in [90, 80] {
            let ptx = String(cString: try nvrtc.ptx(architecture: architecture, useCache: false))
            XCTAssertTrue(ptx.contains(".target sm_\(architecture)"), "PTX for compute_\(architecture)")
            for kernel in CUDAKernel.allCases {
                XCTAssertTrue(
                    ptx.contains(".entry \(kernel.rawValue)("), "\(kernel.rawValue) is missing from the compiled module"
                )
            }
        }
    }

    /// The launch code's parameter table (checked at every launch) against what NVRTC compiled: pointers and
    /// `long long` are `.u64` in PTX, `int` `.u32`, `float` `.f32`.
    func testEveryKernelTakesTheParametersItsLaunchesPass() throws {
        let ptx = String(cString: try compiler().ptx(architecture: 90, useCache: false))
        for kernel in CUDAKernel.allCases {
            guard let start = ptx.range(of: ".entry \(kernel.rawValue)(") else {
                return XCTFail("\(kernel.rawValue) missing")
            }
            let declaration = ptx[start.upperBound...].prefix { $0 != ")" }
            let compiled = declaration.split(separator: "\n").compactMap { line -> String? in
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
                guard let index = words.firstIndex(of: ".param"), index + 1 < words.count else { return nil }
                return String(words[index + 1])
            }
            let expected = kernel.parameters.map { $0 == "i" ? ".u32" : $0 == "f" ? ".f32" : ".u64" }
            XCTAssertEqual(compiled, expected, "\(kernel.rawValue)'s parameters")
        }
    }

    func testACompileErrorIsOneLineNamingTheProblem() throws {
        let nvrtc = try compiler()
        XCTAssertThrowsError(
            try nvrtc.ptx(
                "extern \"C\" __global__ void broken(float *x) { x[0] = undefined_name; }",
                architecture: 90, useCache: false)
        ) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("cuda: NVRTC could not compile"), text)
            XCTAssertTrue(text.contains("undefined_name"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
    }
}
