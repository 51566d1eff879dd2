import NN
import Tensor
import TestSupport
import XCTest

/// What an optimiser step does besides its update rule (the rules themselves are checked against PyTorch in
/// LayerParityTests): it returns the gradients' norm, the same on any number of threads, and clamps to
/// `parameterRange`, both in its own pass.
final class OptimizerStepTests: XCTestCase {
    /// About 82,000 values: many of the step's 2,048-value chunks, and two pieces on two threads.
    func model() -> Module {
        let random = RandomGenerator(seed: 8)
        return Sequential(Linear(256, 160, generator: random), Linear(160, 256, generator: random))
    }

    func testStepReturnsTheGradientNormAndClampsToTheParameterRange() throws {
        let makers: [(String, (ParameterArena) -> Optimizer)] = [
            ("adam", { Adam($0, learningRate: 0.01) }), ("rmsprop", { RMSprop($0, learningRate: 0.01) }),
            ("sgd", { SGD($0, learningRate: 0.5) }),
        ]
        let saved = ComputeThreads.count
        defer { ComputeThreads.count = saved }
        var normOnOneThread: [String: Double] = [:]
        for threads in [1, 2] {
            ComputeThreads.count = threads
            for (name, make) in makers {
                let (plain, clamped) = (ParameterArena(model()), ParameterArena(model()))
                for arena in [plain, clamped] {
                    try arena.gradients.assign(Fixtures.hashed([arena.count], key: 4, scale: 0.3).scalars)
                }
                let expectedNorm = plain.gradientNorm
                let clampedOptimizer = make(clamped)
                clampedOptimizer.parameterRange = -0.05...0.05
                let norms = (make(plain).step(), clampedOptimizer.step())
                let context = "\(name), \(threads) thread(s)"
                // Float lanes within a chunk: a few Float roundings from the Double sum.
                XCTAssertEqual(norms.0, expectedNorm, accuracy: expectedNorm * 1e-6, context)
                XCTAssertEqual(norms.1, expectedNorm, accuracy: expectedNorm * 1e-6, context)
                // Summed in chunk order whatever the thread count.
                XCTAssertEqual(norms.0, normOnOneThread[name, default: norms.0], context)
                normOnOneThread[name] = norms.0
                // The clamped step is the plain step, then the clamp.
                let expected = plain.values.scalars.map { min(max($0, -0.05), 0.05) }
                XCTAssertEqual(clamped.values.scalars, expected, context)
                XCTAssertGreaterThan(plain.values.scalars.filter { abs($0) > 0.05 }.count, 1_000, context)
            }
        }
    }
}
