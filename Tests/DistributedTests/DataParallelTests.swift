import Distributed
import NN
import TestSupport
import XCTest

/// `DataParallel.backward` on one process: what it leaves in the gradient arena.
final class DataParallelTests: XCTestCase {
    /// `model` in a one-process data-parallel wrapper whose arena holds a stale gradient of 7 everywhere, as
    /// an earlier step would leave it.
    func dataParallel(_ model: Module) throws -> DataParallel {
        let arena = ParameterArena(model)
        arena.gradients.backend.fill(arena.gradients, with: 7)
        return try DataParallel(model, arena: arena, communicator: LocalCommunicator())
    }

    /// Backward writes each gradient over the last step's (it does not add to it), and a parameter the loss
    /// does not reach ends with zeros, as after PyTorch's `zero_grad()` and `backward()`.
    func testBackwardReplacesGradientsAndZeroesTheParametersItDidNotReach() throws {
        let random = RandomGenerator(seed: 3)
        let (used, unused) = (Linear(3, 2, generator: random), Linear(3, 2, generator: random))
        let parallel = try dataParallel(Sequential(used, unused))
        let x = Fixtures.hashed([4, 3], key: 11)
        func loss() throws -> Tensor { try used(x).pow(2).sum() }
        let expected = try grad(of: [loss()], withRespectTo: [used.weight.value, used.bias!.value])

        for _ in 0..<2 {
            try parallel.backward(loss())
            XCTAssertEqual(used.weight.value.grad!.scalars, expected[0].scalars)
            XCTAssertEqual(used.bias!.value.grad!.scalars, expected[1].scalars)
            XCTAssertEqual(unused.weight.value.grad!.scalars, [Float](repeating: 0, count: 6))
            XCTAssertEqual(unused.bias!.value.grad!.scalars, [0, 0])
        }
    }

    /// A weight used by two nodes (a discriminator on real and on fake) gets the sum of both gradients, the
    /// second added into the arena by its GEMM (`Node.gradientAccumulator`), or, for spectral norm's rule,
    /// which takes no accumulator, added there after it; a weight used by one has its gradient written
    /// straight into the arena (`Node.gradientDestination`). All must equal what `grad(of:)` computes
    /// without the arena.
    func testAWeightUsedTwiceGetsBothGradients() throws {
        let random = RandomGenerator(seed: 5)
        let (twice, once) = (Linear(3, 2, generator: random), Linear(2, 1, generator: random))
        // In eval mode, so that u and v stay as they are between the two passes.
        let normalized = try spectralNorm(Linear(3, 2, generator: random), generator: random)
        normalized.eval()
        let parallel = try dataParallel(Sequential(twice, once, normalized))
        let (x1, x2) = (Fixtures.hashed([4, 3], key: 12), Fixtures.hashed([4, 3], key: 13))
        func loss() throws -> Tensor {
            let linear = try add(once(twice(x1)).pow(2).sum(), twice(x2).sum())
            return try add(linear, add(normalized(x1).pow(2).sum(), normalized(x2).sum()))
        }
        let weights = [twice, once, normalized].flatMap { $0.namedParameters().map(\.parameter.value) }
        XCTAssertEqual(weights.count, 6)
        let expected = try grad(of: [loss()], withRespectTo: weights)

        try parallel.backward(loss())
        for (weight, expected) in zip(weights, expected) {
            XCTAssertEqual(weight.grad!.scalars, expected.scalars)
        }
    }

    /// A weight that is both inputs of one node (W·Wᵀ) gets both of that node's gradients: only one of them
    /// may be written into the arena, the other is added to it.
    func testAWeightUsedTwiceByOneNodeGetsBothGradients() throws {
        let random = RandomGenerator(seed: 7)
        let layer = Linear(3, 2, generator: random)
        let parallel = try dataParallel(layer)
        let (w, m) = (layer.weight.value, Fixtures.hashed([2, 2], key: 14))
        // Weighted by a matrix that is not symmetric, so that the node's two gradients differ.
        func loss() throws -> Tensor { try multiply(matmul(w, w, transposeB: true), m).sum() }
        let expected = try grad(of: loss(), withRespectTo: w)

        try parallel.backward(loss())
        XCTAssertEqual(w.grad!.scalars, expected.scalars)
    }
}
