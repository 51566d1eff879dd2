/// op(a) · op(b) for 2-D tensors, where op transposes when asked (a Linear layer is `matmul(x, w, transposeB: true)`).
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    try Check.rank("matmul", a, [2], "a matrix")
    try Check.rank("matmul", b, [2], "a matrix")
    let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == kb else {
        throw TensorError.shapeMismatch(
            operation: "matmul",
            detail:
                "\(describe(a.shape))\(transposeA ? "ᵀ" : "") · \(describe(b.shape))\(transposeB ? "ᵀ" : ""): inner sizes \(k) and \(kb) differ"
        )
    }
    try Check.sameDevice("matmul", a, b)
    let y = a.sibling([m, n])
    a.backend.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1, a, b, beta: 0, y)
    return Tensor.record(
        y, operation: "matmul", inputs: [a, b],
        rule: Derivatives.ofMatmul(transposeA: transposeA, transposeB: transposeB))
}
