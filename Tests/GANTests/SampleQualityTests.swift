import Foundation
import TestSupport
import XCTest

@testable import GAN

final class SampleQualityTests: XCTestCase {
    func rows(_ t: Tensor) -> [[Double]] {
        let width = t.shape[1]
        return (0..<t.shape[0]).map { r in (0..<width).map { Double(t.pointer[r * width + $0]) } }
    }

    /// FID and KID against NumPy/SciPy (pytorch-fid's formula with scipy.linalg.sqrtm) on the same features.
    func testFrechetAndKernelDistancesMatchNumPy() throws {
        let file = try Fixtures.load("quality.safetensors")
        let a = rows(try file.tensor("a")), b = rows(try file.tensor("b"))
        let fid = SampleQuality.frechetDistance(a, b)
        let kid = SampleQuality.kernelDistance(a, b, subsets: 1, subsetSize: 10_000)
        XCTAssertEqual(fid, Double(try file.floats("fid")[0]), accuracy: 1e-3 * Double(try file.floats("fid")[0]))
        XCTAssertEqual(kid, Double(try file.floats("kid")[0]), accuracy: 1e-3 * abs(Double(try file.floats("kid")[0])))
    }

    func testFrechetDistanceIsZeroForIdenticalSetsAndGrowsWithNoise() throws {
        let file = try Fixtures.load("quality.safetensors")
        let a = rows(try file.tensor("a"))
        XCTAssertEqual(SampleQuality.frechetDistance(a, a), 0, accuracy: 1e-6)
        let random = RandomGenerator(seed: 3)
        var previous = 0.0
        for noise in [0.1, 0.3, 1.0] {
            let noisy = a.map { row in row.map { $0 + noise * Double(random.normal()) } }
            let fid = SampleQuality.frechetDistance(a, noisy)
            XCTAssertGreaterThan(fid, previous, "FID with noise \(noise)")
            previous = fid
        }
        XCTAssertLessThan(abs(SampleQuality.kernelDistance(a, a, subsets: 1, subsetSize: 10_000)), 1e-2)
    }

    func testSymmetricSquareRootSquaresBack() {
        let m = [[4.0, 1, 0.5], [1, 3, 0.2], [0.5, 0.2, 2]]
        let root = SymmetricMatrix(m).squareRoot().values
        let square = multiply(root, root)
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(square[i][j], m[i][j], accuracy: 1e-10) } }
    }
}
