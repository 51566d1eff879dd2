import Tensor
import XCTest

final class AutodiffTests: XCTestCase {
    func testGradientsAccumulateWhereATensorIsUsedTwice() throws {
        let x = try Tensor([1, 2, 3], shape: [3]).requiringGrad()
        // y = Σ (x·x + 3x) → dy/dx = 2x + 3
        try add(multiply(x, x), x.scaled(by: 3)).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [5, 7, 9])
        // A second backward adds to the existing gradient, as PyTorch does.
        try x.scaled(by: 2).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [7, 9, 11])
    }

    func testDetachedTensorsStopGradients() throws {
        let x = try Tensor([2], shape: [1]).requiringGrad()
        try multiply(x, x.detached()).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [2])
    }

    func testGradDoesNotTouchLeafGradients() throws {
        let x = try Tensor([1, 2], shape: [2]).requiringGrad()
        let w = try Tensor([3, 4], shape: [2]).requiringGrad()
        let g = try grad(of: multiply(x, w).sum(), withRespectTo: x)
        XCTAssertEqual(g.scalars, [3, 4])
        XCTAssertNil(x.grad)
        XCTAssertNil(w.grad)
    }

    func testSecondDerivativeOfACubic() throws {
        // f = Σ x³: f' = 3x², f'' = 6x.
        let x = try Tensor([1, -2], shape: [2]).requiringGrad()
        let first = try grad(of: x.pow(3).sum(), withRespectTo: x, createGraph: true)
        XCTAssertEqual(first.scalars, [3, 12])
        let second = try grad(of: first.sum(), withRespectTo: x)
        XCTAssertEqual(second.scalars, [6, -12])
    }

    func testNothingIsRecordedWithoutGradients() throws {
        let x = Tensor(repeating: 1, shape: [2]).requiringGrad()
        let y = GradientMode.withoutGradients { x.scaled(by: 2) }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.gradientFunction)
        XCTAssertTrue(x.scaled(by: 2).requiresGrad)
    }

    func testBadInputIsAThrownErrorNamingTheOperation() throws {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4, 5])
        XCTAssertThrowsError(try matmul(a, b)) { XCTAssertTrue("\($0)".contains("matmul")) }
        XCTAssertThrowsError(try add(a, b)) { XCTAssertTrue("\($0)".contains("[2, 3] and [4, 5]")) }
        XCTAssertThrowsError(try conv2d(Tensor(zeros: [1, 2, 5, 5]), Tensor(zeros: [3, 4, 3, 3]))) {
            XCTAssertTrue("\($0)".contains("channels"))
        }
        XCTAssertThrowsError(try conv2d(Tensor(zeros: [1, 1, 2, 2]), Tensor(zeros: [1, 1, 5, 5])))
        XCTAssertThrowsError(try a.reshaped(to: [4, -1])) { XCTAssertTrue("\($0)".contains("reshape")) }
        XCTAssertThrowsError(try gatherRows(Tensor(zeros: [3, 2]), indices: [3])) {
            XCTAssertTrue("\($0)".contains("index 3"))
        }
        XCTAssertThrowsError(try Tensor([1, 2, 3], shape: [2, 2]))
        XCTAssertThrowsError(try a.sum().scaled(by: 1).expanded(to: [2]).backward()) {
            XCTAssertTrue("\($0)".contains("seed"))
        }
        XCTAssertThrowsError(try grad(of: a.sum(), withRespectTo: a)) {
            XCTAssertTrue("\($0)".contains("does not require grad"))
        }
        XCTAssertThrowsError(try batchNorm(Tensor(zeros: [1, 3]), weight: nil, bias: nil, epsilon: 1e-5)) {
            XCTAssertTrue("\($0)".contains("more than 1 value per channel"))
        }
    }

    func testSteadyStateStepsReuseBuffers() throws {
        let w = Tensor(repeating: 0.1, shape: [64, 128]).requiringGrad()
        let x = Tensor(repeating: 0.5, shape: [32, 128])
        func step() throws {
            w.grad = nil
            try matmul(x, w, transposeB: true).tanh().mean().backward()
        }
        for _ in 0..<3 { try step() }
        let before = BufferPool.shared.mallocs
        for _ in 0..<10 { try step() }
        XCTAssertEqual(BufferPool.shared.mallocs, before, "a repeated step allocated new buffers")
    }
}

extension AutodiffTests {
    /// Gradients with respect to several results on one chain, as PyTorch gives them.
    func testGradWithRespectToIntermediatesOnOneChain() throws {
        let x = try Tensor([1, 2], shape: [2]).requiringGrad()
        let a = x.scaled(by: 3)  // a = 3x
        let b = try multiply(a.shifted(by: 1), a.shifted(by: 1))  // b = (a + 1)²
        let loss = try b.sum()
        let (ga, gb, gx) = try {
            let g = try grad(of: [loss], withRespectTo: [a, b, x])
            return (g[0], g[1], g[2])
        }()
        XCTAssertEqual(gb.scalars, [1, 1])
        XCTAssertEqual(ga.scalars, [8, 14])  // 2(a + 1)
        XCTAssertEqual(gx.scalars, [24, 42])  // 3 · 2(a + 1)
    }
}
