import CBLAS
import Dispatch
import Foundation

/// How many threads one process computes with: the CPU backend's loops and GEMMs (`Kernels.parallel`). One
/// process alone uses every core; MPI ranks on one machine share them.
public enum ComputeThreads {
    /// The threads in use now.
    public static var count: Int {
        get { current }
        set {
            // OpenBLAS always runs one thread per call: `Kernels.gemm` splits the work itself.
            openblas_set_num_threads(1)
            current = Swift.max(1, newValue)
        }
    }

    nonisolated(unsafe) private static var current = 1

    /// The cores of this machine.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// What a user expects when they ask for nothing: the cores divided among the `localRanks` processes of
    /// this job on this machine (all of them for one process), so that ranks × threads never oversubscribes.
    public static func automatic(localRanks: Int) -> Int { Swift.max(1, cores / Swift.max(localRanks, 1)) }
}

extension Kernels {
    /// Calls `body` on contiguous pieces of `0..<count`, one per thread of `ComputeThreads.count`, in parallel,
    /// when there is enough work (`grain` items at least per piece); else once, on this thread. The split
    /// depends only on `count` and the thread count, and every item is computed by the same code either way,
    /// so a result never depends on timing.
    @inlinable public static func parallel(_ count: Int, grain: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let pieces = Swift.min(ComputeThreads.count, count / Swift.max(grain, 1))
        guard pieces > 1 else { return body(0..<count) }
        runPieces(pieces) { piece in body((count * piece / pieces)..<(count * (piece + 1) / pieces)) }
    }

    @usableFromInline static func runPieces(_ pieces: Int, _ body: (Int) -> Void) {
        WorkerPool.shared.run(pieces: pieces, body)
    }
}
