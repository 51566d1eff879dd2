/// op(a) · op(b) for 2-D tensors, where op transposes when asked (a Linear layer is `matmul(x, w, transposeB: true)`).
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    try matmul(a, b, transposeA: transposeA, transposeB: transposeB, into: nil)
}

/// `matmul`, writing the product into `destination` when one of shape (m, n) is given (a backward rule's
/// `Node.gradientDestination`), or adding it there with `accumulating` (`Node.gradientAccumulator`: the
/// GEMM's beta 1, so no separate pass), when reproducible mode is not chunking the product.
func matmul(
    _ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool, into destination: Tensor?, accumulating: Bool = false
) throws -> Tensor {
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
    let y: Tensor
    if let batch = a.reproducibleBatch ?? b.reproducibleBatch {
        y = try chunkedGemm(batch, a, b, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k)
    } else {
        let target = destination.flatMap { $0.shape == [m, n] ? $0 : nil }
        y = target ?? a.sibling([m, n])
        let beta: Float = accumulating && target != nil ? 1 : 0
        a.backend.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1, a, b, beta: beta, y)
    }
    return Tensor.record(
        y, operation: "matmul", inputs: [a, b],
        rule: Derivatives.ofMatmul(transposeA: transposeA, transposeB: transposeB))
}

/// Reproducible mode's matmul. Samples are either the rows of the result (a Linear layer's output and input
/// gradient: a holds them, b does not), computed one chunk of rows at a time, or the axis summed over (its
/// weight gradient: both hold them), summed per chunk along the tree. Other layouts are refused rather than
/// computed in a split-dependent way.
private func chunkedGemm(
    _ batch: ReproducibleBatch, _ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int
) throws -> Tensor {
    let backend = a.backend
    if a.holdsSamples, !transposeA, b.samples == nil {
        let y = a.sibling([m, n])  // (samples, n)
        try batch.forEachChunk(of: a) { c, size in
            backend.gemm(
                transposeA: false, transposeB: transposeB, m: size, n: n, k: k, alpha: 1, a.chunk(c, of: size), b,
                beta: 0, y.chunk(c, of: size))
        }
        return y
    }
    if a.holdsSamples, transposeA, b.holdsSamples, !transposeB {
        let chunks = try batch.localChunks(k, "matmul")
        let size = batch.chunkSize
        return try batch.sum(chunks: chunks, shape: [m, n], backend: backend) { c, partial, beta in
            backend.gemm(
                transposeA: true, transposeB: false, m: m, n: n, k: size, alpha: 1, a.chunk(c, of: size),
                b.chunk(c, of: size), beta: beta, partial)
        }
    }
    throw TensorError.invalidArgument(
        operation: "matmul",
        detail:
            "reproducible mode supports samples as the rows of the result or as the summed axis, not \(describe(a.shape))\(transposeA ? "ᵀ" : "") · \(describe(b.shape))\(transposeB ? "ᵀ" : "")"
    )
}
