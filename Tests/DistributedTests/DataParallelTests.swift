import Distributed
import NN
import TestSupport
import XCTest

/// `DataParallel.backward` on one process: what it leaves in the gradient arena.
final class DataParallelTests: XCTestCase {
    /// Backward writes each gradient over the last step's (it does not add to it), and a parameter the loss
    /// does not reach ends with zeros, as after PyTorch's `zero_grad()` and `backward()`.
    func testBackwardReplacesGradientsAndZeroesTheParametersItDidNotReach() throws {
        let random = RandomGenerator(seed: 3)
        let (used, unused) = (Linear(3, 2, generator: random), Linear(3, 2, generator: random))
        let model = Sequential(used, unused)
        let arena = ParameterArena(model)
        let parallel = try DataParallel(model, arena: arena, communicator: LocalCommunicator())
        let x = Fixtures.hashed([4, 3], key: 11)
        func loss() throws -> Tensor { try used(x).pow(2).sum() }
        let expected = try grad(of: [loss()], withRespectTo: [used.weight.value, used.bias!.value])

        arena.gradients.backend.fill(arena.gradients, with: 7)  // a stale gradient from an earlier step
        for _ in 0..<2 {
            try parallel.backward(loss())
            XCTAssertEqual(used.weight.value.grad!.scalars, expected[0].scalars)
            XCTAssertEqual(used.bias!.value.grad!.scalars, expected[1].scalars)
            XCTAssertEqual(unused.weight.value.grad!.scalars, [Float](repeating: 0, count: 6))
            XCTAssertEqual(unused.bias!.value.grad!.scalars, [0, 0])
        }
    }
}
