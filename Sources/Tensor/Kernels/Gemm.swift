import CBLAS
import Foundation

extension Kernels {
    /// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, all row-major, through `cblas_sgemm`.
    ///
    /// A large product is cut into blocks of whole columns (or whole rows, when it is taller than wide), each
    /// a one-thread SGEMM over the full k, which the compute threads share (`GemmCut` says how many blocks).
    /// OpenBLAS's own threads are not used: they spin between calls and take the cores from the other loops
    /// of a step.
    ///
    /// `rowLengthB` is B's row length when B is a block of columns of a wider matrix (its width otherwise).
    @inlinable public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rowLengthB: Int? = nil,
        beta: Float = 0, _ c: UnsafeMutablePointer<Float>
    ) {
        let (lda, ldb) = (transposeA ? m : k, rowLengthB ?? (transposeB ? k : n))
        let alongColumns = n >= m
        let extent = alongColumns ? n : m
        let units = extent / 16  // blocks of 16 columns or rows at least: the micro-kernels' width
        let blocks = GemmCut.current.blocks(
            units: units, multiplyAddsPerUnit: 16 * k * (alongColumns ? m : n), threads: ComputeThreads.count)
        // One thread computing several column blocks zeroes C with one memset and adds into it with beta 1: the
        // same bits, as OpenBLAS's kernels always add into C, where OpenBLAS would zero each strided block
        // value by value (`sgemm_beta`, 4% of a `dcgan28` step under `byShape`; 1.01-1.02x).
        let zeroFirst = beta == 0 && ComputeThreads.count == 1 && blocks > 1 && alongColumns
        if zeroFirst { c.update(repeating: 0, count: m * n) }
        func compute(_ block: Int) {
            let first = units * block / blocks * 16
            let last = block == blocks - 1 ? extent : units * (block + 1) / blocks * 16
            if alongColumns {
                sgemm(
                    transposeA, transposeB, m, last - first, k, alpha, a, lda,
                    transposeB ? b + first * ldb : b + first, ldb, zeroFirst ? 1 : beta, c + first, n)
            } else {
                sgemm(
                    transposeA, transposeB, last - first, n, k, alpha, transposeA ? a + first : a + first * k, lda,
                    b, ldb, beta, c + first * n, n)
            }
        }
        // The threads share the blocks in contiguous runs; one thread computes them all in turn.
        parallel(blocks, grain: 1) { run in run.forEach(compute) }
    }

    @inlinable static func sgemm(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        guard n > 1 else {
            // A matrix times a vector (a Linear layer with one output, spectral norm's power iteration): SGEMV
            // reads the matrix once, where SGEMM first packs all of it. With beta 0, c is zeroed first: a BLAS
            // may compute beta·c, which keeps a NaN the uninitialised output can hold (OpenBLAS 0.3.21 does not).
            if beta == 0 { for i in 0..<m { c[i * ldc] = 0 } }
            let (rows, columns) = transposeA ? (k, m) : (m, k)  // op(a) is (m × k); a itself is (rows × columns)
            cblas_sgemv(
                CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, Int32(rows), Int32(columns), alpha, a,
                Int32(lda), b, Int32(transposeB ? 1 : ldb), beta, c, Int32(ldc))
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
