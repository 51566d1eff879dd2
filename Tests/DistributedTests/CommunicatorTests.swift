import Distributed
import NN
import TestSupport
import XCTest

/// Collectives with rank-dependent inputs, checked against their closed forms. Run by `Launch/test` under
/// `mpirun -np 2` and `-np 4`, and as one rank in the plain run.
final class CommunicatorTests: XCTestCase {
    let communicator = MPICommunicator.shared

    func testAllreduceSumsEveryRanksValues() throws {
        let (rank, size) = (communicator.rank, communicator.size)
        var floats = (0..<1000).map { Float($0 + rank) }
        try floats.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0.baseAddress!, count: $0.count) }
        let rankSum = Float(size * (size - 1) / 2)
        XCTAssertEqual(floats, (0..<1000).map { Float(size * $0) + rankSum })
        var doubles = [Double(rank) + 0.5]
        try doubles.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0.baseAddress!, count: 1) }
        XCTAssertEqual(doubles, [Double(rankSum) + 0.5 * Double(size)])
        XCTAssertEqual(try communicator.allreduceMax(Double(rank)), Double(size - 1))
        XCTAssertEqual(try communicator.allgather(Double(rank * 10)), (0..<size).map { Double($0 * 10) })
    }

    func testNonBlockingAllreducesCompleteInAnyWaitOrder() throws {
        let size = communicator.size
        var a = [Float](repeating: Float(communicator.rank + 1), count: 5000), b = [Float](repeating: 2, count: 300)
        try a.withUnsafeMutableBufferPointer { first in
            try b.withUnsafeMutableBufferPointer { second in
                let x = try communicator.startAllreduceSum(first.baseAddress!, count: first.count)
                let y = try communicator.startAllreduceSum(second.baseAddress!, count: second.count)
                try y.wait()
                try x.wait()
            }
        }
        XCTAssertEqual(Set(a), [Float(size * (size + 1) / 2)])
        XCTAssertEqual(Set(b), [Float(2 * size)])
    }

    /// Constructing `DataParallel` makes every replica rank 0's: parameters, buffers and optimiser state.
    func testBroadcastAndReplicaChecksum() throws {
        let model = Sequential(
            Linear(3, 4, generator: RandomGenerator(seed: UInt64(communicator.rank))), BatchNorm1d(4))
        let arena = ParameterArena(model)
        let adam = Adam(arena)
        adam.stepCount = communicator.rank
        if communicator.size > 1 {
            XCTAssertThrowsError(
                try ReplicaState.verify(modules: [model], optimizers: [adam], communicator: communicator)
            ) {
                XCTAssertTrue("\($0)".contains("differs from rank 0"))
            }
        }
        _ = try DataParallel(model, arena: arena, optimizer: adam, communicator: communicator)
        XCTAssertEqual(try communicator.broadcast(100 + communicator.rank), 100)
        XCTAssertEqual(adam.stepCount, 0)
        XCTAssertNoThrow(try ReplicaState.verify(modules: [model], optimizers: [adam], communicator: communicator))
        let rootWeights = Linear(3, 4, generator: RandomGenerator(seed: 0)).weight.value.scalars
        XCTAssertEqual(model.namedParameters()[0].parameter.value.scalars, rootWeights)
    }

    /// Overlapped bucket averaging and one blocking allreduce both give the mean over ranks of each rank's
    /// gradient (each rank feeds a different input; the expected mean is computed here without MPI).
    func testBucketedAveragingGivesTheMeanGradient() throws {
        func model() -> Sequential {
            Sequential(
                Linear(40, 30, generator: RandomGenerator(seed: 1)), Tanh(),
                Linear(30, 20, generator: RandomGenerator(seed: 2)))
        }
        func input(rank: Int) -> Tensor { Tensor(repeating: Float(rank + 1) / 10, shape: [4, 40]) }
        func gradients(overlap: Bool) throws -> [Float] {
            let network = model()
            let arena = ParameterArena(network)
            let parallel = try DataParallel(
                network, arena: arena, communicator: communicator, overlap: overlap, bucketBytes: 1024)
            XCTAssertGreaterThanOrEqual(
                parallel.bucketCount, 2, "several buckets, so several reductions are in flight at once")
            try parallel.backward(network(input(rank: communicator.rank)).sum())
            return arena.gradients.scalars
        }
        var expected = [Float]()
        for rank in 0..<communicator.size {
            let network = model()
            let arena = ParameterArena(network)
            try network(input(rank: rank)).sum().backward()
            let g = arena.gradients.scalars.map { $0 / Float(communicator.size) }
            expected = expected.isEmpty ? g : zip(expected, g).map { $0 + $1 }
        }
        let overlapped = try gradients(overlap: true), blocking = try gradients(overlap: false)
        XCTAssertEqual(overlapped, blocking)
        XCTAssertLessThanOrEqual(relativeError(overlapped, expected), 1e-6)
    }
}
