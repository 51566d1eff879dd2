import Tensor
import TestSupport
import XCTest

/// A finite-difference check of every operation's first derivative.
final class OperationGradientTests: XCTestCase {
    let random = RandomGenerator(seed: 7)

    func leaf(_ shape: [Int], _ range: ClosedRange<Float> = -1...1) -> Tensor { random.leaf(shape, range) }

    /// Values kept away from 0, where ReLU-like kinks would make finite differences meaningless.
    func awayFromZero(_ shape: [Int]) -> Tensor {
        let t = leaf(shape)
        for i in 0..<t.count { t.pointer[i] = t.pointer[i] < 0 ? t.pointer[i] - 0.1 : t.pointer[i] + 0.1 }
        return t
    }

    func testArithmetic() throws {
        let (a, b) = (leaf([3, 4]), leaf([3, 4], 0.5...2))
        try GradientCheck.check([a, b], "add") { try add($0[0], $0[1]) }
        try GradientCheck.check([a, b], "subtract") { try subtract($0[0], $0[1]) }
        try GradientCheck.check([a, b], "multiply") { try multiply($0[0], $0[1]) }
        try GradientCheck.check([a, b], "divide") { try divide($0[0], $0[1]) }
        try GradientCheck.check([a, leaf([1], 0.5...2)], "divide by scalar") { try divide($0[0], byScalar: $0[1]) }
        try GradientCheck.check([a], "scale") { $0[0].scaled(by: -2.5) }
        try GradientCheck.check([a], "shift") { $0[0].shifted(by: 3) }
        try GradientCheck.check([a], "negate") { $0[0].negated() }
        try GradientCheck.check([a], "pow 2") { $0[0].pow(2) }
        try GradientCheck.check([b], "pow 3") { $0[0].pow(3) }
        try GradientCheck.check([b], "pow -1.5") { $0[0].pow(-1.5) }
        try GradientCheck.check([b], "sqrt") { $0[0].squareRoot() }
    }

    func testActivations() throws {
        let x = awayFromZero([4, 5])
        try GradientCheck.check([x], "relu") { $0[0].relu() }
        try GradientCheck.check([x], "leakyRelu") { $0[0].leakyRelu(slope: 0.2) }
        try GradientCheck.check([x], "tanh") { $0[0].tanh() }
        try GradientCheck.check([x], "sigmoid") { $0[0].sigmoid() }
    }

    func testMatmulInEveryTransposition() throws {
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            let a = leaf(ta ? [4, 3] : [3, 4]), b = leaf(tb ? [5, 4] : [4, 5])
            try GradientCheck.check([a, b], "matmul \(ta) \(tb)") {
                try matmul($0[0], $0[1], transposeA: ta, transposeB: tb)
            }
        }
    }

    /// x·Wᵀ + b with the bias as the GEMM's start: its gradients, and its value against matmul then the bias.
    func testLinear() throws {
        let (x, w, b) = (leaf([3, 4]), leaf([5, 4]), leaf([5]))
        try GradientCheck.check([x, w, b], "linear") { try linear($0[0], $0[1], bias: $0[2]) }
        let separate = try addChannels(matmul(x, w, transposeB: true), b)
        assertClose(try linear(x, w, bias: b).scalars, separate.scalars, "linear against matmul + bias")
        XCTAssertThrowsError(try linear(x, w, bias: leaf([4]))) { XCTAssertTrue("\($0)".contains("linear")) }
    }

    func testChannelOperations() throws {
        for shape in [[3, 4], [2, 3, 2, 2]] {
            let x = leaf(shape), v = leaf([shape[1]])
            try GradientCheck.check([x, v], "addChannels \(shape)") { try addChannels($0[0], $0[1]) }
            try GradientCheck.check([x, v], "multiplyChannels \(shape)") { try multiplyChannels($0[0], $0[1]) }
            try GradientCheck.check([x], "sumChannels \(shape)") { try sumChannels($0[0]) }
            try GradientCheck.check([v], "expandChannels \(shape)") { try expandChannels($0[0], to: shape) }
        }
    }

    func testReductionsAndShapes() throws {
        let x = leaf([2, 3, 4])
        try GradientCheck.check([x], "sum") { try $0[0].sum() }
        try GradientCheck.check([x], "mean") { try $0[0].mean() }
        try GradientCheck.check([leaf([1])], "expanded") { try $0[0].expanded(to: [2, 3]) }
        try GradientCheck.check([x], "sumPerSample") { try $0[0].sumPerSample() }
        try GradientCheck.check([leaf([2])], "expandedPerSample") { try $0[0].expandedPerSample(to: [2, 3, 4]) }
        try GradientCheck.check([x], "reshape") { try $0[0].reshaped(to: [4, -1]) }
        try GradientCheck.check([x], "flatten") { try $0[0].flattened() }
        try GradientCheck.check([x], "narrow") { try $0[0].narrowed(channels: 1..<3) }
        try GradientCheck.check([x], "pad") { try $0[0].paddedChannels(before: 2, after: 1) }
        try GradientCheck.check([x, leaf([2, 2, 4])], "concat") { try concatChannels([$0[0], $0[1]]) }
    }

    func testConvolutions() throws {
        for (k, s, p) in [(3, 1, 1), (3, 2, 1), (4, 2, 1), (4, 1, 0), (1, 1, 0), (3, 2, 0)] {
            let x = leaf([2, 2, 6, 5]), w = leaf([3, 2, k, k])
            try GradientCheck.check([x, w], "conv2d k\(k) s\(s) p\(p)") {
                try conv2d($0[0], $0[1], stride: s, padding: p)
            }
        }
        // A kernel covering the whole unpadded input takes the im2col-free path.
        try GradientCheck.check([leaf([3, 2, 4, 4]), leaf([5, 2, 4, 4])], "conv2d full-size kernel") {
            try conv2d($0[0], $0[1])
        }
        try GradientCheck.check([leaf([3, 5, 1, 1]), leaf([5, 2, 4, 4])], "convTranspose2d from 1x1") {
            try convTranspose2d($0[0], $0[1])
        }
        for (k, s, p) in [(3, 2, 0), (3, 2, 1), (4, 2, 2), (4, 2, 1), (4, 1, 0)] {
            let x = leaf([2, 3, 3, 3]), w = leaf([3, 2, k, k])
            try GradientCheck.check([x, w], "convTranspose2d k\(k) s\(s) p\(p)") {
                try convTranspose2d($0[0], $0[1], stride: s, padding: p)
            }
        }
    }

    /// A convolution's bias added in the same pass (the layout copy, col2im, or after a GEMM-only product): its
    /// gradients, and the bits of the convolution followed by addChannels, for the im2col and the GEMM-only
    /// geometries of both directions.
    func testConvolutionsWithTheirBias() throws {
        func same(_ fused: Tensor, _ separate: Tensor, _ name: String) {
            XCTAssertEqual(fused.scalars.map(\.bitPattern), separate.scalars.map(\.bitPattern), name)
        }
        for (x, w, s, p) in [
            (leaf([2, 2, 6, 5]), leaf([3, 2, 3, 3]), 2, 1), (leaf([3, 2, 4, 4]), leaf([3, 2, 4, 4]), 1, 0),
        ] {
            let b = leaf([3])
            try GradientCheck.check([x, w, b], "conv2d with bias \(x.shape)") {
                try conv2d($0[0], $0[1], bias: $0[2], stride: s, padding: p)
            }
            same(
                try conv2d(x, w, bias: b, stride: s, padding: p),
                try addChannels(conv2d(x, w, stride: s, padding: p), b), "conv2d \(x.shape)")
        }
        for (x, s, p) in [(leaf([2, 3, 3, 3]), 2, 1), (leaf([3, 3, 1, 1]), 1, 0)] {
            let (w, b) = (leaf([3, 2, 4, 4]), leaf([2]))
            try GradientCheck.check([x, w, b], "convTranspose2d with bias \(x.shape)") {
                try convTranspose2d($0[0], $0[1], bias: $0[2], stride: s, padding: p)
            }
            same(
                try convTranspose2d(x, w, bias: b, stride: s, padding: p),
                try addChannels(convTranspose2d(x, w, stride: s, padding: p), b), "convTranspose2d \(x.shape)")
        }
        XCTAssertThrowsError(try conv2d(leaf([1, 2, 4, 4]), leaf([3, 2, 3, 3]), bias: leaf([2]))) {
            XCTAssertTrue("\($0)".contains("bias"), "\($0)")
        }
    }

    func testEmbeddingRows() throws {
        try GradientCheck.check([leaf([5, 3])], "gatherRows") { try gatherRows($0[0], indices: [4, 0, 4, 2]) }
        try GradientCheck.check([leaf([4, 3])], "scatterAddRows") {
            try scatterAddRows($0[0], indices: [4, 0, 4, 2], rows: 5)
        }
    }

    func testBatchNormFirstOrder() throws {
        for shape in [[5, 3], [2, 3, 2, 3]] {
            let x = leaf(shape, -2...2), weight = leaf([3], 0.5...1.5), bias = leaf([3])
            try GradientCheck.check([x, weight, bias], "batchNorm \(shape)") {
                try batchNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5).output
            }
            try GradientCheck.check([x], "batchNorm \(shape) without affine") {
                try batchNorm($0[0], weight: nil, bias: nil, epsilon: 0.8).output
            }
        }
    }

    /// Batch norm with its activation in the same pass: the bits of batchNorm then leakyRelu, forward and
    /// backward (the input's, γ's and β's gradients for one upstream gradient), for ReLU and a leaky slope.
    func testBatchNormWithItsActivationIsBatchNormThenTheActivation() throws {
        for shape in [[6, 3], [2, 3, 2, 3]] {
            for slope: Float in [0, 0.2] {
                let x = leaf(shape, -2...2), weight = leaf([3], 0.5...1.5), bias = leaf([3])
                let upstream = leaf(shape)
                func run(fused: Bool) throws -> [[UInt32]] {
                    let y =
                        fused
                        ? try batchNorm(x, weight: weight, bias: bias, epsilon: 1e-5, activationSlope: slope).output
                        : try batchNorm(x, weight: weight, bias: bias, epsilon: 1e-5).output.leakyRelu(slope: slope)
                    let gradients = try grad(of: [y], withRespectTo: [x, weight, bias], seeds: [upstream])
                    return ([y] + gradients).map { $0.scalars.map(\.bitPattern) }
                }
                XCTAssertEqual(try run(fused: true), try run(fused: false), "\(shape), slope \(slope)")
                XCTAssertTrue(
                    try run(fused: true)[0].contains { Float(bitPattern: $0) <= 0 }, "some values below the kink")
                try GradientCheck.check([awayFromZero(shape), weight, bias], "batchNorm + leakyRelu \(slope)") {
                    try batchNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5, activationSlope: slope).output
                }
            }
        }
        XCTAssertThrowsError(try batchNorm(leaf([4, 3]), weight: nil, bias: nil, epsilon: 1e-5, activationSlope: -0.1))
        {
            XCTAssertTrue("\($0)".contains("≥ 0"), "\($0)")
        }
    }

    func testCrossEntropyLosses() throws {
        let target = try Tensor([1, 0, 1, 0, 0.3, 1], shape: [6, 1])
        let p = leaf([6, 1], 0.1...0.9)
        try GradientCheck.check([p], step: 1e-3, "binaryCrossEntropy") { try binaryCrossEntropy($0[0], target: target) }
        try GradientCheck.check([leaf([4, 5], -3...3)], "softmaxCrossEntropy") {
            try softmaxCrossEntropy($0[0], labels: [0, 4, 2, 2])
        }
        let logits = leaf([6, 1], -3...3)
        try GradientCheck.check([logits], "binaryCrossEntropyWithLogits") {
            try binaryCrossEntropyWithLogits($0[0], target: target)
        }
    }
}
