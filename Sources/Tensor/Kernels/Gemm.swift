import CBLAS
import Foundation

extension Kernels {
    /// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, all row-major, through `cblas_sgemm`.
    @inlinable public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        beta: Float = 0, _ c: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n), beta, c, Int32(n))
    }
}

/// OpenBLAS thread count for this process. SwiftGAN runs one BLAS thread per rank unless the user sets
/// `OPENBLAS_NUM_THREADS` (or calls this), so that MPI ranks on one machine do not fight over cores.
public enum BLASThreads {
    public static var count: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// One thread, unless the environment asked for a number.
    public static func applyDefault() {
        if getenv("OPENBLAS_NUM_THREADS") == nil { count = 1 }
    }
}
