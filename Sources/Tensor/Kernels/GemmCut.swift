import CBLAS

/// How `Kernels.gemm` cuts a product into blocks for the compute threads, chosen so that the thread count
/// never changes the bits.
///
/// Each block of columns (or rows) is one SGEMM call. Whether a block comes out as the same bits as the same
/// values of the whole product depends on the BLAS kernels. OpenBLAS's AVX-512 kernels (SkylakeX, Cooperlake)
/// gave the same bits for blocks of at least 2 M multiply-adds in every check. Its AVX2 (Haswell, Zen) kernels
/// do not, at any block
/// alignment tried (16 to 384 columns): values inside a block differ, not only at its edges
/// (Benchmarks/RESULTS.md, "Per-core speed").
public enum GemmCut: Equatable, Sendable {
    /// One block per thread, so one thread computes a product whole: only where the kernels are known to give
    /// the same bits for such blocks.
    case perThread
    /// Blocks chosen by the shape alone. One thread computes in turn the blocks that several threads share,
    /// so the bits are the same on any thread count whatever the kernels do. Each block packs the other
    /// operand afresh: one thread runs 0-3% slower than with the product whole.
    case byShape

    /// The cut for the kernels this process runs with, or the one a test set.
    public static var current: GemmCut {
        get { chosen ?? detected }
        set { chosen = newValue }
    }

    nonisolated(unsafe) private static var chosen: GemmCut?

    /// `perThread` under OpenBLAS's SkylakeX kernels (the Launch scripts ask for them on AVX-512 CPUs other
    /// than AMD's Zen 4: Launch/openblas-coretype) and its Cooperlake ones, which OpenBLAS picks itself on
    /// CPUs with AVX-512 BF16 (this Zen 4 among them) and which were checked the same way (the thread tests,
    /// training runs on 1 and 2 threads and ranks); `byShape` under any other.
    public static let detected: GemmCut = ["SkylakeX", "Cooperlake"].contains(kernels) ? .perThread : .byShape

    /// The OpenBLAS kernels this process runs with ("SkylakeX", "Haswell", ...), as `bench` reports them.
    public static let kernels = String(cString: openblas_get_corename())

    /// How many blocks a product of `units` blocks of 16 columns (or rows), `multiplyAddsPerUnit` each, is cut
    /// into on `threads` threads.
    @inlinable public func blocks(units: Int, multiplyAddsPerUnit: Int, threads: Int) -> Int {
        let enough = 2_000_000  // multiply-adds a block needs to be worth a call (and to be safe under SkylakeX)
        switch self {
        case .perThread:
            let unitsPerBlock = Swift.max(1, enough / Swift.max(multiplyAddsPerUnit, 1))
            return Swift.max(1, Swift.min(threads, units / unitsPerBlock))
        case .byShape:
            // A power of two up to 16, so that 2, 4, 8 or 16 threads share the blocks evenly; each block at
            // least 128 wide (8 units), where 256 cost 2-thread `mlp-gan` 15-25% (its products are 256-1024
            // wide) and 64 cost one thread 1-3%.
            var blocks = 1
            while blocks < 16, units / (2 * blocks) >= 8, units / (2 * blocks) * multiplyAddsPerUnit >= enough {
                blocks *= 2
            }
            return blocks
        }
    }
}
