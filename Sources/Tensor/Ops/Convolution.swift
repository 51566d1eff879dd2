// Three operations close convolution under differentiation: the forward pass, its input gradient
// (which is also ConvTranspose2d's forward pass) and its weight gradient. Each one's derivative is
// written with the three of them, so gradients of gradients (WGAN-GP) pass through conv layers.

private func convolutionGeometry(
    _ operation: String, input x: Tensor, weight w: Tensor, stride: Int, padding: Int
)
    throws -> ConvGeometry
{
    try Check.rank(operation, x, [4], "an image batch (N, C, H, W)")
    try Check.rank(operation, w, [4], "a weight (O, C, k, k)")
    guard w.shape[2] == w.shape[3], stride >= 1, padding >= 0 else {
        throw TensorError.invalidArgument(
            operation: operation,
            detail: "needs a square kernel, stride ≥ 1 and padding ≥ 0 (weight \(describe(w.shape)))")
    }
    try Check.sameDevice(operation, x, w)
    guard x.shape[1] == w.shape[1] else {
        throw TensorError.shapeMismatch(
            operation: operation,
            detail:
                "input \(describe(x.shape)) has \(x.shape[1]) channels, weight \(describe(w.shape)) expects \(w.shape[1])"
        )
    }
    let g = ConvGeometry(
        inputChannels: w.shape[1], outputChannels: w.shape[0], inputHeight: x.shape[2], inputWidth: x.shape[3],
        kernel: w.shape[2], stride: stride, padding: padding)
    guard g.outputHeight >= 1, g.outputWidth >= 1, x.shape[2] + 2 * padding >= g.kernel else {
        throw TensorError.shapeMismatch(
            operation: operation, detail: "input \(describe(x.shape)) is smaller than the kernel")
    }
    return g
}

/// A convolution's bias: `(channels)` on the input's device.
private func checkBias(_ operation: String, _ bias: Tensor?, channels: Int, _ x: Tensor) throws {
    guard let bias else { return }
    guard bias.shape == [channels] else {
        throw TensorError.shapeMismatch(
            operation: operation, detail: "bias \(describe(bias.shape)) for \(channels) output channels")
    }
    try Check.sameDevice(operation, x, bias)
}

/// 2-D cross-correlation as PyTorch's `conv2d` computes it, plus a bias per output channel when given (added
/// as the product is laid out, with the bits of adding it after).
/// - Parameters: x `(N, C, H, W)`; w `(O, C, k, k)`; bias `(O)`. Returns `(N, O, OH, OW)`.
public func conv2d(_ x: Tensor, _ w: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) throws -> Tensor {
    let g = try convolutionGeometry("conv2d", input: x, weight: w, stride: stride, padding: padding)
    try checkBias("conv2d", bias, channels: g.outputChannels, x)
    return try convolution(x, w, bias: bias, geometry: g)
}

/// PyTorch's `conv_transpose2d` (no output padding): the input gradient of a conv2d whose weight is w, plus a
/// bias per output channel when given (added to each pixel's sum, with the bits of adding it after).
/// - Parameters: x `(N, C, H, W)`; w `(C, O, k, k)` (PyTorch's ConvTranspose2d layout); bias `(O)`. Returns
///   `(N, O, OH, OW)` with OH = (H − 1)·stride − 2·padding + k.
public func convTranspose2d(
    _ x: Tensor, _ w: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0
) throws -> Tensor {
    try Check.rank("convTranspose2d", x, [4], "an image batch (N, C, H, W)")
    try Check.rank("convTranspose2d", w, [4], "a weight (C, O, k, k)")
    try Check.sameDevice("convTranspose2d", x, w)
    guard x.shape[1] == w.shape[0] else {
        throw TensorError.shapeMismatch(
            operation: "convTranspose2d",
            detail:
                "input \(describe(x.shape)) has \(x.shape[1]) channels, weight \(describe(w.shape)) expects \(w.shape[0])"
        )
    }
    let k = w.shape[2]
    let outH = (x.shape[2] - 1) * stride - 2 * padding + k
    let outW = (x.shape[3] - 1) * stride - 2 * padding + k
    guard w.shape[3] == k, stride >= 1, padding >= 0, outH >= 1, outW >= 1 else {
        throw TensorError.invalidArgument(
            operation: "convTranspose2d",
            detail: "input \(describe(x.shape)) and weight \(describe(w.shape)) give no output")
    }
    // The convolution that maps the transposed conv's output back to its input.
    let g = ConvGeometry(
        inputChannels: w.shape[1], outputChannels: w.shape[0], inputHeight: outH, inputWidth: outW,
        kernel: k, stride: stride, padding: padding)
    guard g.outputHeight == x.shape[2], g.outputWidth == x.shape[3] else {
        throw TensorError.invalidArgument(operation: "convTranspose2d", detail: "inconsistent geometry \(g)")
    }
    try checkBias("convTranspose2d", bias, channels: g.inputChannels, x)
    return try convolutionInputGradient(x, w, bias: bias, geometry: g)
}

/// Largest im2col matrix a recorded convolution keeps for its weight gradient (16 M floats, 64 MB); larger
/// ones are unfolded again in backward rather than held through the pass.
let keptColumnsLimit = 1 << 24

/// conv(x, w) (+ bias), recorded with inputs [x, w] or [x, w, bias].
func convolution(_ x: Tensor, _ w: Tensor, bias: Tensor? = nil, geometry g: ConvGeometry) throws -> Tensor {
    let (batch, backend) = (x.shape[0], x.backend)
    let y = x.sibling(g.outputShape(batch: batch))
    let inputs = [x, w] + [bias].compactMap { $0 }
    if let reproducible = try chunking(x, w, "conv2d") {
        // (the im2col columns are not kept: each chunk's would be a separate matrix)
        try reproducible.forEachChunk(of: x) { c, size in
            backend.convolution(
                x.chunk(c, of: size), w, bias: bias, geometry: g, into: y.chunk(c, of: size), keepColumns: nil)
        }
        return Tensor.record(y, operation: "conv2d", inputs: inputs, rule: Derivatives.ofConvolution(g))
    }
    let columnCount = backend.keptColumnsCount(geometry: g, batch: batch)
    let keep = GradientMode.isEnabled && w.requiresGrad && columnCount > 0 && columnCount <= keptColumnsLimit
    let columns = keep ? Storage(count: columnCount, backend: backend) : nil
    backend.convolution(x, w, bias: bias, geometry: g, into: y, keepColumns: columns)
    return Tensor.record(y, operation: "conv2d", inputs: inputs, rule: Derivatives.ofConvolution(g, columns: columns))
}

/// convᵀ(dy, w) (+ bias), recorded with inputs [dy, w] or [dy, w, bias].
func convolutionInputGradient(_ dy: Tensor, _ w: Tensor, bias: Tensor? = nil, geometry g: ConvGeometry) throws -> Tensor
{
    let dx = dy.sibling(g.inputShape(batch: dy.shape[0]))
    if let reproducible = try chunking(dy, w, "convTranspose2d") {
        try reproducible.forEachChunk(of: dy) { c, size in
            dy.backend.convolutionInputGradient(
                dy.chunk(c, of: size), w, bias: bias, geometry: g, into: dx.chunk(c, of: size))
        }
    } else {
        dy.backend.convolutionInputGradient(dy, w, bias: bias, geometry: g, into: dx)
    }
    return Tensor.record(
        dx, operation: "convTranspose2d", inputs: [dy, w] + [bias].compactMap { $0 },
        rule: Derivatives.ofConvolutionInputGradient(g))
}

func convolutionWeightGradient(_ x: Tensor, _ dy: Tensor, geometry g: ConvGeometry) throws -> Tensor {
    let backend = x.backend
    let dw: Tensor
    if let reproducible = x.reproducibleBatch ?? dy.reproducibleBatch {
        guard x.holdsSamples, dy.holdsSamples else {
            throw TensorError.invalidArgument(
                operation: "conv2dWeightGradient", detail: "reproducible mode needs samples in both x and dy")
        }
        let size = reproducible.chunkSize
        dw = try reproducible.sum(chunks: reproducible.localChunks(x.shape[0], "conv2dWeightGradient")) { c in
            let partial = Tensor(uninitialized: g.weightShape, backend: backend)
            backend.convolutionWeightGradient(
                x.chunk(c, of: size), dy.chunk(c, of: size), geometry: g, into: partial, columns: nil)
            return partial
        }
    } else {
        dw = x.sibling(g.weightShape)
        dw.samples = nil
        backend.convolutionWeightGradient(x, dy, geometry: g, into: dw, columns: nil)
    }
    return Tensor.record(
        dw, operation: "conv2dWeightGradient", inputs: [x, dy], rule: Derivatives.ofConvolutionWeightGradient(g))
}

/// conv(x, w) and weightGradient(x, dy) from one unfolding of x, outside the tape: what a first-order
/// backward pass of ConvTranspose2d needs (x is its output gradient, dy its input). Nil where the columns are
/// not kept (a recorded pass, reproducible mode's chunks, a GEMM-only geometry, columns over the limit).
func convolutionSharingColumns(_ x: Tensor, _ w: Tensor, _ dy: Tensor, geometry g: ConvGeometry) -> (Tensor, Tensor)? {
    let (batch, backend) = (x.shape[0], x.backend)
    let columnCount = backend.keptColumnsCount(geometry: g, batch: batch)
    guard !GradientMode.isEnabled, ReproducibleBatch.current == nil, columnCount > 0, columnCount <= keptColumnsLimit
    else { return nil }
    let columns = Storage(count: columnCount, backend: backend)  // (C·k·k, N·OH·OW)
    let y = x.sibling(g.outputShape(batch: batch))
    backend.convolution(x, w, bias: nil, geometry: g, into: y, keepColumns: columns)
    let dw = Tensor(uninitialized: g.weightShape, backend: backend)
    backend.convolutionWeightGradient(x, dy, geometry: g, into: dw, columns: columns)
    return (y, dw)
}

/// Reproducible mode's batch when `x` (samples) meets a weight `w` (no samples) in a convolution; nil outside
/// it. Samples in the weight operand would make the result depend on the split: refused.
private func chunking(_ x: Tensor, _ w: Tensor, _ operation: String) throws -> ReproducibleBatch? {
    guard let batch = x.reproducibleBatch ?? w.reproducibleBatch else { return nil }
    guard x.holdsSamples, w.samples == nil else {
        throw TensorError.invalidArgument(
            operation: operation, detail: "reproducible mode needs samples in the input only")
    }
    return batch
}
