import CBLAS
import Foundation

extension Kernels {
    /// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, all row-major, through `cblas_sgemm`.
    ///
    /// With several compute threads the output is cut into blocks of whole columns (or whole rows, when it is
    /// taller than wide) and each thread runs a one-thread SGEMM on its block over the full k. OpenBLAS's own
    /// threads are not used: they spin between calls and take the cores from the other loops of a step.
    @inlinable public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        beta: Float = 0, _ c: UnsafeMutablePointer<Float>
    ) {
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        // Blocks of 16 columns or rows at least: one cache line of the output, and the micro-kernels' width.
        let alongColumns = n >= m
        let blocks = (alongColumns ? n : m) / 16
        parallel(blocks, grain: Swift.max(1, 2_000_000 / Swift.max(16 * k * (alongColumns ? m : n), 1))) { piece in
            let first = piece.lowerBound * 16
            let last = piece.upperBound == blocks ? (alongColumns ? n : m) : piece.upperBound * 16
            if alongColumns {
                sgemm(
                    transposeA, transposeB, m, last - first, k, alpha, a, lda,
                    transposeB ? b + first * k : b + first, ldb, beta, c + first, n)
            } else {
                sgemm(
                    transposeA, transposeB, last - first, n, k, alpha, transposeA ? a + first : a + first * k, lda,
                    b, ldb, beta, c + first * n, n)
            }
        }
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
