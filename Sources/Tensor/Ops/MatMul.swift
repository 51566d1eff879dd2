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

/// x·Wᵀ + b, a Linear layer: x `(N, in)`, w `(out, in)`, b `(out)`, result `(N, out)`. The GEMM starts from b in
/// every row and adds the product to it (beta 1), as PyTorch's addmm does, so the bias needs no pass of its
/// own. Reproducible mode computes the product by chunks and adds the bias after it.
public func linear(_ x: Tensor, _ w: Tensor, bias: Tensor) throws -> Tensor {
    guard x.reproducibleBatch == nil, w.reproducibleBatch == nil else {
        return try addChannels(matmul(x, w, transposeB: true), bias)
    }
    try Check.rank("linear", x, [2], "a matrix")
    try Check.rank("linear", w, [2], "a matrix")
    let (m, k, n) = (x.shape[0], x.shape[1], w.shape[0])
    guard w.shape[1] == k, bias.shape == [n] else {
        throw TensorError.shapeMismatch(
            operation: "linear",
            detail: "input \(describe(x.shape)), weight \(describe(w.shape)), bias \(describe(bias.shape))")
    }
    try Check.sameDevice("linear", x, w)
    try Check.sameDevice("linear", x, bias)
    let y = x.sibling([m, n])
    x.backend.expandChannels(bias, layout: ChannelLayout(batch: m, channels: n, spatial: 1), into: y)
    x.backend.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1, x, w, beta: 1, y)
    return Tensor.record(y, operation: "linear", inputs: [x, w, bias], rule: Derivatives.ofLinear)
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
