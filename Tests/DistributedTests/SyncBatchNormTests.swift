import Distributed
import NN
import TestSupport
import XCTest

/// Run by `Launch/test` under `mpirun -np 2` and `-np 4` (and in the plain run as one rank): every rank holds
/// a contiguous slice of one global batch, and SyncBN on the slices must equal plain batch norm on the whole.
final class SyncBatchNormTests: XCTestCase {
    let communicator = MPICommunicator.shared

    /// Forward and backward of Σ y·R through `module` for this rank's rows of the global input.
    func run(
        _ make: () -> BatchNorm, input: Tensor, rows: Range<Int>, sync: Bool
    ) throws -> (y: [Float], dx: [Float], dWeight: [Float], dBias: [Float], mean: [Float], variance: [Float]) {
        let bn = make()
        if sync { _ = try DataParallel(bn, arena: ParameterArena(bn), communicator: communicator) }
        let width = input.count / input.shape[0]
        let x = try Tensor(
            Array(input.scalars[(rows.lowerBound * width)..<(rows.upperBound * width)]),
            shape: [rows.count] + input.shape.dropFirst()
        ).requiringGrad()
        let y = try bn(x)
        let r = Fixtures.hashed(input.shape, key: 77)
        let rLocal = try Tensor(Array(r.scalars[(rows.lowerBound * width)..<(rows.upperBound * width)]), shape: y.shape)
        try multiply(y, rLocal).sum().backward()
        return (
            y.scalars, x.grad!.scalars, bn.weight!.grad!.scalars, bn.bias!.grad!.scalars,
            bn.runningMean.tensor.scalars, bn.runningVariance.tensor.scalars
        )
    }

    func testSyncBatchNormEqualsBatchNormOnTheWholeBatch() throws {
        let (rank, size) = (communicator.rank, communicator.size)
        for (shape, make) in [
            ([8, 3, 4, 4], { BatchNorm2d(3) as BatchNorm }), ([8, 128, 1, 1], { BatchNorm2d(128) }),
            ([8, 5], { BatchNorm1d(5, epsilon: 0.8) }),
        ] {
            let input = Fixtures.hashed(shape, key: 5, scale: 2)
            let whole = try run(make, input: input, rows: 0..<8, sync: false)
            let local = 8 / size
            let rows = (rank * local)..<((rank + 1) * local)
            let mine = try run(make, input: input, rows: rows, sync: true)
            let width = input.count / 8
            let slice = (rows.lowerBound * width)..<(rows.upperBound * width)
            assertClose(mine.y, Array(whole.y[slice]), tolerance: 1e-5, "\(shape) output on rank \(rank) of \(size)")
            assertClose(mine.dx, Array(whole.dx[slice]), tolerance: 1e-5, "\(shape) input gradient on rank \(rank)")
            // γ and β gradients are this rank's share; summed over ranks they are the whole batch's.
            var dWeight = mine.dWeight, dBias = mine.dBias
            try dWeight.withUnsafeMutableBufferPointer {
                try communicator.allreduceSum($0.baseAddress!, count: $0.count)
            }
            try dBias.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0.baseAddress!, count: $0.count) }
            assertClose(dWeight, whole.dWeight, tolerance: 1e-5, "\(shape) weight gradient")
            assertClose(dBias, whole.dBias, tolerance: 1e-5, "\(shape) bias gradient")
            assertClose(mine.mean, whole.mean, tolerance: 1e-5, "\(shape) running mean")
            assertClose(mine.variance, whole.variance, tolerance: 1e-5, "\(shape) running variance")
        }
    }
}
