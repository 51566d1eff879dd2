extension Kernels {
    /// y = conv(x, w) + bias: im2col over the whole batch, then one GEMM; the bias is added as the product
    /// is copied into NCHW, with the bits of adding it after.
    /// - Parameters: x `(N, C, H, W)`; w `(O, C, k, k)`; bias `(O)` or nil; y `(N, O, OH, OW)`.
    /// - Parameter keepColumns: receives the im2col matrix `(C·k·k, N·OH·OW)` when given, so that the weight
    ///   gradient can reuse it instead of unfolding `x` again.
    public static func convolution(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil, batch: Int,
        geometry g: ConvGeometry, into y: UnsafeMutablePointer<Float>, keepColumns: Storage? = nil
    ) {
        if g.coversWholeInput {  // y (N, O) = x (N, C·k·k) · wᵀ
            gemm(transposeA: false, transposeB: true, m: batch, n: g.outputChannels, k: g.patchSize, x, w, y)
            // The bias in a pass of its own: these layers are small (a DCGAN critic's last).
            if let bias {
                let layout = ChannelLayout(batch: batch, channels: g.outputChannels, spatial: 1)
                channels(.add, y, bias, layout: layout, into: y)
            }
            return
        }
        let positions = batch * g.outputPlane
        let columns = keepColumns ?? Storage(count: g.patchSize * positions)  // (C·k·k, N·OH·OW)
        let product = Storage(count: g.outputChannels * positions)  // (O, N·OH·OW)
        im2col(x, batch: batch, geometry: g, into: columns.base)
        gemm(
            transposeA: false, transposeB: false, m: g.outputChannels, n: positions, k: g.patchSize,
            w, columns.base, product.base)
        swapOuterAxes(
            product.base, outer: g.outputChannels, inner: batch, run: g.outputPlane, into: y, samplesInner: true,
            adding: bias)
    }

    /// dx = convᵀ(dy, w) + bias, the input gradient of `convolution` and the forward pass of ConvTranspose2d
    /// (with its bias, which col2im adds to each pixel's sum: the bits of adding it after).
    /// - Parameters: dy `(N, O, OH, OW)`; w `(O, C, k, k)`; bias `(C)` or nil; dx `(N, C, H, W)`.
    public static func convolutionInputGradient(
        _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil, batch: Int,
        geometry g: ConvGeometry, into dx: UnsafeMutablePointer<Float>
    ) {
        if g.coversWholeInput {  // dx (N, C·k·k) = dy (N, O) · w
            gemm(transposeA: false, transposeB: false, m: batch, n: g.patchSize, k: g.outputChannels, dy, w, dx)
            if let bias {
                let layout = ChannelLayout(batch: batch, channels: g.inputChannels, spatial: g.inputPlane)
                channels(.add, dx, bias, layout: layout, into: dx)
            }
            return
        }
        let positions = batch * g.outputPlane
        let gathered = Storage(count: g.outputChannels * positions)  // (O, N·OH·OW)
        let columns = Storage(count: g.patchSize * positions)  // (C·k·k, N·OH·OW)
        swapOuterAxes(dy, outer: batch, inner: g.outputChannels, run: g.outputPlane, into: gathered.base)
        gemm(
            transposeA: true, transposeB: false, m: g.patchSize, n: positions, k: g.outputChannels,
            w, gathered.base, columns.base)
        col2im(columns.base, batch: batch, geometry: g, into: dx, adding: bias)
    }

    /// dw = Σ over batch and positions of dy ⊗ patches(x), the weight gradient of `convolution`.
    /// - Parameters: x `(N, C, H, W)`; dy `(N, O, OH, OW)`; dw `(O, C, k, k)`.
    /// - Parameter columns: the im2col matrix of `x`, when the forward pass kept it.
    public static func convolutionWeightGradient(
        _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, batch: Int, geometry g: ConvGeometry,
        into dw: UnsafeMutablePointer<Float>, columns kept: Storage? = nil
    ) {
        if g.coversWholeInput {  // dw (O, C·k·k) = dyᵀ (O, N) · x (N, C·k·k)
            gemm(transposeA: true, transposeB: false, m: g.outputChannels, n: g.patchSize, k: batch, dy, x, dw)
            return
        }
        let positions = batch * g.outputPlane
        let gathered = Storage(count: g.outputChannels * positions)  // (O, N·OH·OW)
        let columns: Storage
        if let kept {
            columns = kept
        } else {
            columns = Storage(count: g.patchSize * positions)  // (C·k·k, N·OH·OW)
            im2col(x, batch: batch, geometry: g, into: columns.base)
        }
        swapOuterAxes(dy, outer: batch, inner: g.outputChannels, run: g.outputPlane, into: gathered.base)
        gemm(
            transposeA: false, transposeB: true, m: g.outputChannels, n: g.patchSize, k: positions,
            gathered.base, columns.base, dw)
    }
}
