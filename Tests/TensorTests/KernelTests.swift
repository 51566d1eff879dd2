import Foundation
import Tensor
import TestSupport
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

    /// `Philox.normals` is Box–Muller on the words of `Philox.block`, block by block: each value within a few
    /// Float roundings of r·cos θ or r·sin θ computed in Double from those words, for keys and counters with
    /// their high bits set; and a count that ends inside a block or a group of sixteen writes that many values
    /// and no more, each the bits of the longer draw's.
    func testPhiloxNormalsAreBoxMullerOnTheBlocksWords() {
        let cases: [((UInt32, UInt32), (UInt32, UInt32, UInt32))] = [
            ((0, 0), (0, 0, 1)), ((0xdead_beef, 0x8000_0001), (0xffff_fffe, 7, 0x8000_0000)),
        ]
        for (key, counter) in cases {
            let longest = 4096
            var drawn = [Float](repeating: 0, count: longest)
            drawn.withUnsafeMutableBufferPointer {
                Philox.normals(key: key, counter: counter, count: longest, into: $0.baseAddress!)
            }
            var worst = 0.0
            for block in 0..<longest / 4 {
                let w = Philox.block(key: key, counter: (UInt32(block), counter.0, counter.1, counter.2))
                for (pair, (a, b)) in [(w.0, w.1), (w.2, w.3)].enumerated() {
                    let radius = (-2 * Foundation.log(Double((a >> 8) + 1) * 0x1p-24)).squareRoot()
                    let angle = 2 * Double.pi * Double(b >> 8) * 0x1p-24
                    let i = 4 * block + 2 * pair
                    for (value, exact) in [(drawn[i], radius * cos(angle)), (drawn[i + 1], radius * sin(angle))] {
                        worst = max(worst, abs(Double(value) - exact) / (radius + 1))
                    }
                }
            }
            XCTAssertLessThan(worst, 1.5e-7, "largest error relative to r + 1")
            for count in [1, 2, 3, 4, 5, 63, 64, 65, 100, 257] {
                var short = [Float](repeating: -99, count: count + 1)  // a guard value past the end
                short.withUnsafeMutableBufferPointer {
                    Philox.normals(key: key, counter: counter, count: count, into: $0.baseAddress!)
                }
                XCTAssertEqual(short.prefix(count).map(\.bitPattern), drawn.prefix(count).map(\.bitPattern))
                XCTAssertEqual(short[count], -99, "count \(count)")
            }
        }
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
            (2, 3, 0, 7, 8),  // stride past the kernel: pixels no tap reads, which col2im must zero
            (3, 2, 1, 1, 1),  // a one-pixel image: all taps but the centre in the padding
        ] {
            let g = ConvGeometry(
                inputChannels: 2, outputChannels: 1, inputHeight: h, inputWidth: w, kernel: k, stride: s, padding: p)
            let batch = 2
            let x = Tensor(uninitialized: g.inputShape(batch: batch))
            let c = Tensor(uninitialized: [g.patchSize, batch * g.outputPlane])
            random.fillUniform(x, -1, 1)
            random.fillUniform(c, -1, 1)
            // Filled with 7s, so that an entry the kernels leave unwritten shows in the dot products.
            let columns = Tensor(repeating: 7, shape: c.shape), folded = Tensor(repeating: 7, shape: x.shape)
            Kernels.im2col(x.pointer, batch: batch, geometry: g, into: columns.pointer)
            Kernels.col2im(c.pointer, batch: batch, geometry: g, into: folded.pointer)
            let left = Kernels.dot(columns.pointer, c.pointer, count: c.count)
            let right = Kernels.dot(x.pointer, folded.pointer, count: x.count)
            XCTAssertEqual(left, right, accuracy: 1e-4 * max(1, abs(left)), "\(g)")
        }
    }

    /// im2col and col2im in registers (stride 2 on planes up to 32 wide, on AVX-512 CPUs) give the gathers'
    /// bits, with a bias and without, for DCGAN's geometries and others: odd and even planes, paddings 0 to 2,
    /// kernels 1 to 5, planes down to one output pixel, non-square ones, into a block of a wider matrix.
    func testIm2colAndCol2imInRegistersAreTheGathersBits() {
        let random = RandomGenerator(seed: 13)
        for (k, p, h, w) in [
            (4, 1, 14, 14), (4, 1, 28, 28), (4, 1, 30, 30),  // dcgan28, sngan
            (4, 1, 2, 2), (4, 1, 8, 6), (4, 1, 30, 18),
            (3, 0, 9, 9), (3, 1, 17, 17), (3, 1, 16, 16), (3, 1, 8, 8),  // dcgan
            (5, 2, 12, 7), (1, 0, 9, 5), (2, 0, 6, 6), (4, 2, 3, 3), (3, 1, 29, 1),
        ] {
            let g = ConvGeometry(
                inputChannels: 3, outputChannels: 1, inputHeight: h, inputWidth: w, kernel: k, stride: 2, padding: p)
            XCTAssertEqual(Kernels.runsByPhase(g), Kernels.hasAVX512, "\(g)")
            let batch = 3
            let images = Tensor(uninitialized: g.inputShape(batch: batch))
            random.fillUniform(images, -1, 1)
            // Columns 2 wider than the batch's, to check the row length; the gaps must stay as they were.
            let rowLength = batch * g.outputPlane + 2
            let (inRegisters, gathered) = (
                Tensor(repeating: 7, shape: [g.patchSize, rowLength]),
                Tensor(repeating: 7, shape: [g.patchSize, rowLength])
            )
            Kernels.im2col(images.pointer, batch: batch, geometry: g, into: inRegisters.pointer, rowLength: rowLength)
            Kernels.im2colGathering(
                images.pointer, batch: batch, geometry: g, into: gathered.pointer, rowLength: rowLength)
            assertSameBits(inRegisters.scalars, gathered.scalars, "im2col \(g)")

            let columns = Tensor(uninitialized: [g.patchSize, batch * g.outputPlane])
            random.fillUniform(columns, -1, 1)
            columns.pointer[1] = -0.0  // a −0 tap, which a sum from +0 turns into +0 on both paths
            let bias = Tensor(uninitialized: [3])
            random.fillUniform(bias, -1, 1)
            for shift in [nil, bias] {
                let (inRegisters, gathered) = (
                    Tensor(repeating: 7, shape: images.shape), Tensor(repeating: 7, shape: images.shape)
                )
                Kernels.col2im(
                    columns.pointer, batch: batch, geometry: g, into: inRegisters.pointer, adding: shift?.pointer)
                Kernels.col2imGathering(
                    columns.pointer, batch: batch, geometry: g, into: gathered.pointer, adding: shift?.pointer)
                assertSameBits(inRegisters.scalars, gathered.scalars, "col2im \(g) bias \(shift != nil)")
            }
        }
        for (k, s, p, h, w) in [(4, 2, 2, 32, 32), (3, 2, 1, 32, 32), (3, 1, 1, 8, 8), (4, 2, 1, 40, 8)] {
            // wider output rows than a register's 16 lanes; stride 1; a plane wider than 32
            let g = ConvGeometry(
                inputChannels: 1, outputChannels: 1, inputHeight: h, inputWidth: w, kernel: k, stride: s, padding: p)
            XCTAssertFalse(Kernels.runsByPhase(g), "\(g)")
        }
    }

    /// A batch large enough to run in chunks (`forEachChunk`) gives each sample what that sample alone gives,
    /// forward and input gradient, and the forward pass keeps the whole batch's im2col matrix, chunk by chunk.
    func testConvolutionInChunksMatchesEachSampleAlone() {
        let random = RandomGenerator(seed: 21)
        for (k, s, p) in [(4, 2, 1), (3, 2, 1), (3, 1, 1)] {  // the phase kernels, the gathers, stride 1
            let g = ConvGeometry(
                inputChannels: 32, outputChannels: 8, inputHeight: 30, inputWidth: 30, kernel: k, stride: s, padding: p)
            let batch = 16
            XCTAssertGreaterThan(batch * g.patchSize * g.outputPlane, 2 * Kernels.columnsInCache, "\(g) in chunks")
            let (x, w, dy) = (
                Tensor(uninitialized: g.inputShape(batch: batch)), Tensor(uninitialized: g.weightShape),
                Tensor(uninitialized: g.outputShape(batch: batch))
            )
            for t in [x, w, dy] { random.fillUniform(t, -1, 1) }
            let (y, dx) = (Tensor(uninitialized: dy.shape), Tensor(uninitialized: x.shape))
            let kept = Storage(count: g.patchSize * batch * g.outputPlane)
            Kernels.convolutionByColumns(
                x.pointer, w.pointer, batch: batch, geometry: g, into: y.pointer, keepColumns: kept)
            Kernels.convolutionInputGradientByColumns(
                dy.pointer, w.pointer, batch: batch, geometry: g, into: dx.pointer)
            let (ySample, dxSample) = (g.outputChannels * g.outputPlane, g.inputChannels * g.inputPlane)
            for n in 0..<batch {
                let (yAlone, dxAlone) = (Tensor(uninitialized: [ySample]), Tensor(uninitialized: [dxSample]))
                Kernels.convolutionByColumns(
                    x.pointer + n * dxSample, w.pointer, batch: 1, geometry: g, into: yAlone.pointer)
                Kernels.convolutionInputGradientByColumns(
                    dy.pointer + n * ySample, w.pointer, batch: 1, geometry: g, into: dxAlone.pointer)
                assertClose(
                    Array(y.scalars[n * ySample..<(n + 1) * ySample]), yAlone.scalars, tolerance: 1e-5, "\(g) y \(n)")
                assertClose(
                    Array(dx.scalars[n * dxSample..<(n + 1) * dxSample]), dxAlone.scalars, tolerance: 1e-5,
                    "\(g) dx \(n)")
            }
            let whole = Tensor(uninitialized: [g.patchSize, batch * g.outputPlane])
            Kernels.im2col(x.pointer, batch: batch, geometry: g, into: whole.pointer)
            assertSameBits(
                Array(UnsafeBufferPointer(start: kept.base, count: whole.count)), whole.scalars, "\(g) kept columns")
        }
    }

    /// Winograd's forward pass and input gradient against im2col's, with and without a bias, on planes whose
    /// tiles overhang them (5×6 and 7×7 outputs), channel counts that leave a partial block of 16, and 1×1
    /// outputs; and which geometries take it.
    func testWinogradMatchesIm2col() {
        let random = RandomGenerator(seed: 8)
        let shapes = [(64, 64, 14, 14), (72, 80, 10, 12), (64, 128, 28, 28), (65, 64, 2, 2)]  // C, O, H, W
        for (channels, outputs, height, width) in shapes {
            let g = ConvGeometry(
                inputChannels: channels, outputChannels: outputs, inputHeight: height, inputWidth: width, kernel: 4,
                stride: 2, padding: 1)
            XCTAssertTrue(Kernels.runsByWinograd(g), "\(g)")
            let batch = 3
            let (x, w, dy) = (
                Tensor(uninitialized: g.inputShape(batch: batch)), Tensor(uninitialized: g.weightShape),
                Tensor(uninitialized: g.outputShape(batch: batch))
            )
            let (outputBias, inputBias) = (Tensor(uninitialized: [outputs]), Tensor(uninitialized: [channels]))
            for t in [x, w, dy, outputBias, inputBias] { random.fillUniform(t, -1, 1) }
            for withBias in [false, true] {
                let (y, yColumns) = (Tensor(uninitialized: dy.shape), Tensor(uninitialized: dy.shape))
                let (dx, dxColumns) = (Tensor(uninitialized: x.shape), Tensor(uninitialized: x.shape))
                let (b, c) = withBias ? (outputBias.pointer, inputBias.pointer) : (nil, nil)
                Kernels.convolutionByWinograd(x.pointer, w.pointer, bias: b, batch: batch, geometry: g, into: y.pointer)
                Kernels.convolutionByColumns(
                    x.pointer, w.pointer, bias: b, batch: batch, geometry: g, into: yColumns.pointer)
                Kernels.convolutionInputGradientByWinograd(
                    dy.pointer, w.pointer, bias: c, batch: batch, geometry: g, into: dx.pointer)
                Kernels.convolutionInputGradientByColumns(
                    dy.pointer, w.pointer, bias: c, batch: batch, geometry: g, into: dxColumns.pointer)
                assertClose(y.scalars, yColumns.scalars, tolerance: 1e-5, "\(g) y, bias \(withBias)")
                assertClose(dx.scalars, dxColumns.scalars, tolerance: 1e-5, "\(g) dx, bias \(withBias)")
            }
        }
        let odd = ConvGeometry(
            inputChannels: 64, outputChannels: 64, inputHeight: 9, inputWidth: 9, kernel: 4, stride: 2, padding: 1)
        let thin = ConvGeometry(
            inputChannels: 1, outputChannels: 64, inputHeight: 28, inputWidth: 28, kernel: 4, stride: 2, padding: 1)
        let kernel3 = ConvGeometry(
            inputChannels: 64, outputChannels: 64, inputHeight: 8, inputWidth: 8, kernel: 3, stride: 2, padding: 1)
        for g in [odd, thin, kernel3] { XCTAssertFalse(Kernels.runsByWinograd(g), "\(g)") }
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

    /// The cuts to check: `byShape` everywhere, and the one this process picked (`perThread` under OpenBLAS's
    /// SkylakeX and Cooperlake kernels; under others `perThread` would change the bits, which is why it is not
    /// picked there).
    var cuts: [GemmCut] { GemmCut.detected == .byShape ? [.byShape] : [GemmCut.detected, .byShape] }

    /// A GEMM cut over threads (by columns when the output is wide, by rows when it is tall, in every
    /// transposition, with accumulation into C and with beta 0 over NaN) gives the same bits as one thread, and
    /// the right numbers, under either cut; a GEMM too small to cut (5×7) accumulates into C once. One output
    /// column (n = 1) is the SGEMV path.
    func testGemmOnSeveralThreadsIsTheSameBits() {
        let random = RandomGenerator(seed: 4)
        defer { (ComputeThreads.count, GemmCut.current) = (1, GemmCut.detected) }
        for cut in cuts {
            GemmCut.current = cut
            for (m, n, k) in [(16, 4_000, 300), (3_000, 24, 200), (40, 37, 3), (5, 7, 3), (3_000, 1, 200), (5, 1, 3)] {
                for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                    let a = Tensor(uninitialized: [m * k]), b = Tensor(uninitialized: [k * n])
                    let start = Tensor(uninitialized: [m * n])
                    for t in [a, b, start] { random.fillUniform(t, -1, 1) }
                    for beta: Float in [2, 0] {
                        func product(threads: Int) -> [Float] {
                            ComputeThreads.count = threads
                            // Beta 0 must overwrite what C holds, NaN included.
                            let c = beta == 0 ? Tensor(repeating: .nan, shape: start.shape) : start.copy()
                            Kernels.gemm(
                                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                a.pointer, b.pointer, beta: beta, c.pointer)
                            return c.scalars
                        }
                        let one = product(threads: 1), several = product(threads: 3)
                        let label = "\(cut) m \(m) n \(n) k \(k) transposed \(transposeA) \(transposeB) beta \(beta)"
                        assertSameBits(several, one, label)
                        for (i, j) in [(m - 1, n / 2), (0, n - 1)] {
                            var expected = Double(beta) * Double(start.scalars[i * n + j])
                            for p in 0..<k {
                                let x = a.scalars[transposeA ? p * m + i : i * k + p],
                                    y = b.scalars[transposeB ? j * k + p : p * n + j]
                                expected += 0.5 * Double(x) * Double(y)
                            }
                            XCTAssertEqual(Double(one[i * n + j]), expected, accuracy: 1e-3, label)
                        }
                    }
                }
            }
        }
    }

    /// `byShape` cuts a product by its shape alone, into a power of two of blocks up to 16, each at least 128
    /// columns wide and 2 M multiply-adds large; `perThread` into at most one block per thread.
    func testByShapeCutsDependOnTheShapeAlone() {
        let shapes = [(1, 1_000_000), (15, 1_000_000), (16, 100), (16, 1_000_000), (250, 4_800), (4_000, 50_000)]
        for (units, work) in shapes {
            let counts = [1, 2, 3, 16].map {
                GemmCut.byShape.blocks(units: units, multiplyAddsPerUnit: work, threads: $0)
            }
            XCTAssertEqual(Set(counts).count, 1, "units \(units): \(counts)")
            let blocks = counts[0]
            XCTAssertTrue([1, 2, 4, 8, 16].contains(blocks), "units \(units): \(blocks)")
            if blocks > 1 {
                XCTAssertGreaterThanOrEqual(units / blocks, 8)
                XCTAssertGreaterThanOrEqual(units / blocks * work, 2_000_000)
            }
        }
        XCTAssertEqual(GemmCut.byShape.blocks(units: 16, multiplyAddsPerUnit: 1_000_000, threads: 1), 2)
        XCTAssertEqual(GemmCut.byShape.blocks(units: 4_000, multiplyAddsPerUnit: 50_000, threads: 1), 16)
        XCTAssertEqual(GemmCut.byShape.blocks(units: 15, multiplyAddsPerUnit: 1_000_000, threads: 4), 1)
        XCTAssertEqual(GemmCut.perThread.blocks(units: 4_000, multiplyAddsPerUnit: 50_000, threads: 3), 3)
        XCTAssertEqual(GemmCut.perThread.blocks(units: 4_000, multiplyAddsPerUnit: 50_000, threads: 1), 1)
    }

    /// A matrix times a vector with beta 0 (the SGEMV path) overwrites its output, NaN included: the outputs of
    /// operations start uninitialised.
    func testMatrixTimesVectorOverwritesAnUninitialisedOutput() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2x3 [[1,2,3],[4,5,6]], or 3x2 [[1,2],[3,4],[5,6]] read transposed
        let x: [Float] = [1, 0, 2]
        for (transposeA, expected) in [(false, [Float(7), 16]), (true, [11, 14])] {
            var c: [Float] = [.nan, .nan]
            Kernels.gemm(transposeA: transposeA, transposeB: false, m: 2, n: 1, k: 3, a, x, &c)
            XCTAssertEqual(c, expected, "transposed \(transposeA)")
        }
    }

    /// A convolution's three passes (im2col, col2im, the GEMMs; Winograd's transforms and GEMMs for the second
    /// shape), batch norm's sums and an activation give the same bits on one thread and on three (the sizes are
    /// large enough for each loop to be cut in three).
    func testConvolutionOnSeveralThreadsIsTheSameBits() throws {
        let random = RandomGenerator(seed: 5)
        defer { ComputeThreads.count = 1 }
        for (inputShape, weightShape) in [([16, 6, 28, 28], [32, 6, 4, 4]), ([8, 64, 14, 14], [64, 64, 4, 4])] {
            let x = Tensor(uninitialized: inputShape), w = Tensor(uninitialized: weightShape)
            random.fillUniform(x, -1, 1)
            random.fillUniform(w, -0.2, 0.2)
            func passes(threads: Int) throws -> [[Float]] {
                ComputeThreads.count = threads
                let (input, weight) = (x.copy().requiringGrad(), w.copy().requiringGrad())
                let bias = Tensor(repeating: 0.1, shape: [weightShape[0]]).requiringGrad()
                let convolved = try conv2d(input, weight, stride: 2, padding: 1)
                let y = try batchNorm(convolved, weight: nil, bias: bias, epsilon: 1e-5).output.leakyRelu(slope: 0.2)
                let gradients = try grad(
                    of: [y], withRespectTo: [input, weight, bias], seeds: [Tensor(repeating: 1, shape: y.shape)])
                return [y.scalars] + gradients.map(\.scalars)
            }
            defer { GemmCut.current = GemmCut.detected }
            for cut in cuts {
                GemmCut.current = cut
                let (one, three) = (try passes(threads: 1), try passes(threads: 3))
                for (pass, name) in ["output", "input gradient", "weight gradient", "bias gradient"].enumerated() {
                    assertSameBits(three[pass], one[pass], "\(cut) \(inputShape) \(name)")
                }
            }
        }
    }

    /// The vectorisable tanh and logistic agree with double-precision libm to 1e-6 relative (or 1e-9 absolute
    /// near 0) from −100 to 100, including 0, tiny values, the switch at |x| = 0.0625 and saturation.
    func testTanhAndLogisticMatchLibm() throws {
        var inputs: [Float] = [0, -0.0, 1e-30, -1e-8, 0.0624999, 0.0625, -0.0625001, 9, 9.5, -40, 88, -88, 100, -100]
        var x: Float = -20
        while x <= 20 {
            inputs.append(x)
            x += 0.001_37
        }
        // Through the backend's loops, whose widest variant this CPU has is the one that runs.
        let tensor = try Tensor(inputs, shape: [inputs.count])
        let (tanhs, logistics) = (tensor.tanh(), tensor.sigmoid())
        for (i, x) in inputs.enumerated() {
            let tanh = Foundation.tanh(Double(x)), logistic = 1 / (1 + Foundation.exp(-Double(x)))
            XCTAssertEqual(Double(tanhs.pointer[i]), tanh, accuracy: max(1e-6 * abs(tanh), 1e-9), "tanh \(x)")
            XCTAssertEqual(
                Double(logistics.pointer[i]), logistic, accuracy: max(1e-6 * abs(logistic), 1e-9), "logistic \(x)")
        }
        XCTAssertEqual(tanhs.pointer[1].sign, .minus, "tanh keeps the sign of zero")
    }
}
