import Tensor
import XCTest

final class KernelTests: XCTestCase {
    /// Random123's known-answer vectors for Philox 4x32-10.
    func testPhiloxMatchesTheReferenceVectors() {
        let zero = Philox.block(key: (0, 0), counter: (0, 0, 0, 0))
        XCTAssertEqual([zero.0, zero.1, zero.2, zero.3], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        let ones = Philox.block(
            key: (0xffff_ffff, 0xffff_ffff), counter: (0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff))
        XCTAssertEqual([ones.0, ones.1, ones.2, ones.3], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        let pi = Philox.block(
            key: (0xa409_3822, 0x299f_31d0), counter: (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344))
        XCTAssertEqual([pi.0, pi.1, pi.2, pi.3], [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    func testRandomDistributionsHaveTheRightMoments() {
        let random = RandomGenerator(seed: 5)
        let normals = (0..<20000).map { _ in Double(random.normal()) }
        let mean = normals.reduce(0, +) / Double(normals.count)
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(normals.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
        let uniforms = (0..<20000).map { _ in random.uniform(-1, 1) }
        XCTAssertTrue(uniforms.allSatisfy { $0 >= -1 && $0 < 1 })
        XCTAssertEqual(Double(uniforms.reduce(0, +)) / 20000, 0, accuracy: 0.02)
    }

    /// col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for every geometry.
    func testCol2imIsTheAdjointOfIm2col() {
        let random = RandomGenerator(seed: 9)
        for (k, s, p, h, w) in [
            (3, 1, 1, 5, 4), (4, 2, 1, 8, 8), (3, 2, 0, 9, 7), (5, 2, 2, 6, 6), (1, 1, 0, 3, 3), (4, 2, 2, 6, 5),
        ] {
            let g = ConvGeometry(
                inputChannels: 2, outputChannels: 1, inputHeight: h, inputWidth: w, kernel: k, stride: s, padding: p)
            let batch = 2
            let x = Tensor(uninitialized: g.inputShape(batch: batch))
            let c = Tensor(uninitialized: [g.patchSize, batch * g.outputPlane])
            random.fillUniform(x, -1, 1)
            random.fillUniform(c, -1, 1)
            let columns = Tensor(uninitialized: c.shape), folded = Tensor(uninitialized: x.shape)
            Kernels.im2col(x.pointer, batch: batch, geometry: g, into: columns.pointer)
            Kernels.col2im(c.pointer, batch: batch, geometry: g, into: folded.pointer)
            let left = Kernels.dot(columns.pointer, c.pointer, count: c.count)
            let right = Kernels.dot(x.pointer, folded.pointer, count: x.count)
            XCTAssertEqual(left, right, accuracy: 1e-4 * max(1, abs(left)), "\(g)")
        }
    }

    func testConvolutionMatchesADirectLoop() throws {
        let random = RandomGenerator(seed: 2)
        let x = Tensor(uninitialized: [2, 3, 7, 6]), w = Tensor(uninitialized: [4, 3, 3, 3])
        random.fillUniform(x, -1, 1)
        random.fillUniform(w, -1, 1)
        let y = try conv2d(x, w, stride: 2, padding: 1)
        XCTAssertEqual(y.shape, [2, 4, 4, 3])
        for n in 0..<2 {
            for o in 0..<4 {
                for i in 0..<4 {
                    for j in 0..<3 {
                        var total: Float = 0
                        for c in 0..<3 {
                            for ki in 0..<3 {
                                for kj in 0..<3 {
                                    let (r, q) = (i * 2 - 1 + ki, j * 2 - 1 + kj)
                                    guard r >= 0, r < 7, q >= 0, q < 6 else { continue }
                                    total +=
                                        x.pointer[((n * 3 + c) * 7 + r) * 6 + q]
                                        * w.pointer[((o * 3 + c) * 3 + ki) * 3 + kj]
                                }
                            }
                        }
                        XCTAssertEqual(y.pointer[((n * 4 + o) * 4 + i) * 3 + j], total, accuracy: 1e-5)
                    }
                }
            }
        }
    }

    func testGemmHonoursTranspositions() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2x3
        let b: [Float] = [1, 0, 2, 1, 0, 3]  // 3x2 [[1,0],[2,1],[0,3]], or 2x3 [[1,0,2],[1,0,3]] read transposed
        var c = [Float](repeating: 0, count: 4)
        Kernels.gemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, a, b, &c)
        XCTAssertEqual(c, [5, 11, 14, 23])
        // A·Bᵀ with B stored 2x3.
        Kernels.gemm(transposeA: false, transposeB: true, m: 2, n: 2, k: 3, a, b, &c)
        // rows of A times rows of B: [1,2,3]·[1,0,2], [1,2,3]·[1,0,3], [4,5,6]·[1,0,2], [4,5,6]·[1,0,3]
        XCTAssertEqual(c, [7, 10, 16, 22])
    }
}
