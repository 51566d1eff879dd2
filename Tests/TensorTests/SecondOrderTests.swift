import Tensor
import TestSupport
import XCTest

/// Gradients of gradients: each function below takes d(Σ f·R₁)/dx with `createGraph: true` and returns it;
/// the checker then differentiates that by the tape and by finite differences. This is WGAN-GP's path.
final class SecondOrderTests: XCTestCase {
    let random = RandomGenerator(seed: 11)

    func leaf(_ shape: [Int], _ range: ClosedRange<Float> = -1...1) -> Tensor { random.leaf(shape, range) }

    /// d(Σ f(x, θ)·R)/dx with the graph kept, as a function of (x, θ...).
    func inputGradient(_ f: @escaping ([Tensor]) throws -> Tensor) -> ([Tensor]) throws -> Tensor {
        { inputs in
            let y = try f(inputs)
            // The same R₁ on every call: a fresh generator with a fixed seed.
            let r = Tensor(uninitialized: y.shape)
            RandomGenerator(seed: 3).fillUniform(r, -1, 1)
            return try grad(of: y, withRespectTo: inputs[0], seed: r, createGraph: true)
        }
    }

    func testThroughLinearAndSmoothActivations() throws {
        let (x, w, b) = (leaf([3, 4]), leaf([5, 4]), leaf([5]))
        for (name, activation) in [
            ("tanh", { (t: Tensor) in t.tanh() }), ("sigmoid", { $0.sigmoid() }), ("pow", { $0.pow(2) }),
        ] {
            // `linear` as the Linear layer runs it, and as reproducible mode does (matmul, then the bias).
            try GradientCheck.check(
                [x, w, b], "∂²(linear → \(name))", inputGradient { v in activation(try linear(v[0], v[1], bias: v[2])) }
            )
            try GradientCheck.check(
                [x, w, b], "∂²(matmul + bias → \(name))",
                inputGradient { v in
                    activation(try addChannels(matmul(v[0], v[1], transposeB: true), v[2]))
                })
        }
    }

    func testThroughLeakyReluMLP() throws {
        // Two layers so that the piecewise-linear activation's second derivative (zero) meets a weight path.
        let (x, w1, w2) = (leaf([3, 4]), leaf([6, 4]), leaf([1, 6]))
        try GradientCheck.check(
            [x, w1, w2], "∂²(mlp with leakyRelu)",
            inputGradient { v in
                try matmul(matmul(v[0], v[1], transposeB: true).leakyRelu(slope: 0.2), v[2], transposeB: true).sigmoid()
            })
    }

    func testThroughConvolutions() throws {
        let (x, w, wt) = (leaf([2, 2, 5, 5]), leaf([3, 2, 3, 3]), leaf([3, 2, 4, 4]))
        try GradientCheck.check(
            [x, w], "∂²(conv2d → tanh)",
            inputGradient { v in
                try conv2d(v[0], v[1], stride: 2, padding: 1).tanh()
            })
        try GradientCheck.check(
            [leaf([2, 3, 3, 3]), wt], "∂²(convTranspose2d → tanh)",
            inputGradient { v in
                try convTranspose2d(v[0], v[1], stride: 2, padding: 1).tanh()
            })
        // With the bias each adds in the same pass, as the layers run them.
        try GradientCheck.check(
            [x, w, leaf([3])], "∂²(conv2d with bias → tanh)",
            inputGradient { v in try conv2d(v[0], v[1], bias: v[2], stride: 2, padding: 1).tanh() })
        try GradientCheck.check(
            [leaf([2, 3, 3, 3]), wt, leaf([2])], "∂²(convTranspose2d with bias → tanh)",
            inputGradient { v in try convTranspose2d(v[0], v[1], bias: v[2], stride: 2, padding: 1).tanh() })
    }

    func testThroughShapesAndReductions() throws {
        let (x, c) = (leaf([3, 4]), leaf([3, 2]))
        try GradientCheck.check(
            [x, c], "∂²(concat, narrow, sumPerSample, sqrt)",
            inputGradient { v in
                let joined = try concatChannels([v[0], v[1]]).tanh()
                return try multiply(joined, joined).sumPerSample().shifted(by: 1).squareRoot()
            })
        try GradientCheck.check(
            [leaf([2, 6]), leaf([6])], "∂²(reshape, channels, mean)",
            inputGradient { v in
                try multiplyChannels(v[0].reshaped(to: [2, 6]).sigmoid(), v[1]).mean()
            })
        try GradientCheck.check(
            [leaf([3, 4]), leaf([5, 4])], "∂²(projection with gatherRows)",
            inputGradient { v in
                try multiply(gatherRows(v[1], indices: [1, 4, 1]), v[0].tanh()).sumPerSample()
            })
        try GradientCheck.check(
            [leaf([3, 4]), leaf([1], 1...2)], "∂²(divide by scalar)",
            inputGradient { v in
                try divide(v[0].tanh(), byScalar: v[1])
            })
    }

    func testGradientPenaltyFormula() throws {
        // 10 · mean((‖∇x D(x)‖ − 1)²) for D = sigmoid(leakyRelu(x·W₁ᵀ)·W₂ᵀ), differentiated in W₁ and W₂.
        let (x, w1, w2) = (leaf([4, 5]), leaf([6, 5]), leaf([1, 6]))
        try GradientCheck.check([w1, w2], "gradient penalty") { v in
            let input = x.detached().requiringGrad()
            let scores = try matmul(matmul(input, v[0], transposeB: true).leakyRelu(slope: 0.2), v[1], transposeB: true)
            let g = try grad(
                of: scores, withRespectTo: input, seed: Tensor(repeating: 1, shape: scores.shape), createGraph: true)
            return try multiply(g, g).sumPerSample().squareRoot().shifted(by: -1).pow(2).mean().scaled(by: 10)
        }
    }

    func testBatchNormRefusesSecondDerivative() throws {
        let x = leaf([4, 3])
        let y = try batchNorm(x, weight: nil, bias: nil, epsilon: 1e-5).output
        XCTAssertThrowsError(try grad(of: y.tanh().sum(), withRespectTo: x, createGraph: true)) { error in
            XCTAssertEqual(error as? TensorError, .noSecondDerivative(operation: "batchNorm"))
            XCTAssertTrue("\(error)".contains("no second derivative"))
        }
        // First order still works.
        XCTAssertNoThrow(try grad(of: y.tanh().sum(), withRespectTo: x))
    }

    func testCrossEntropyRefusesSecondDerivative() throws {
        let p = leaf([3, 1], 0.2...0.8)
        let loss = try binaryCrossEntropy(p, target: Tensor(repeating: 1, shape: [3, 1]))
        XCTAssertThrowsError(try grad(of: loss, withRespectTo: p, createGraph: true))
    }
}
