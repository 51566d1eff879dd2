extension Kernels {
    /// y = conv(x, w) + bias: by Winograd where `runsByWinograd`, else im2col, then a GEMM, a few samples at a
    /// time (`forEachChunk`); the bias is added as the product is copied into NCHW, with the bits of adding it
    /// after.
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
        if runsByWinograd(g) {
            if let keepColumns { im2col(x, batch: batch, geometry: g, into: keepColumns.base) }
            return convolutionByWinograd(x, w, bias: bias, batch: batch, geometry: g, into: y)
        }
        convolutionByColumns(x, w, bias: bias, batch: batch, geometry: g, into: y, keepColumns: keepColumns)
    }

    /// `convolution` by im2col and a GEMM, for any geometry that does not cover the whole input.
    public static func convolutionByColumns(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil, batch: Int,
        geometry g: ConvGeometry, into y: UnsafeMutablePointer<Float>, keepColumns: Storage? = nil
    ) {
        let positions = batch * g.outputPlane
        let kept = keepColumns?.base  // (C·k·k, N·OH·OW)
        forEachChunk(batch: batch, geometry: g, ownColumns: kept == nil) { samples, scratch in
            // This chunk's columns: its block of the kept matrix, or a matrix of its own.
            let (first, width) = (samples.lowerBound * g.outputPlane, samples.count * g.outputPlane)
            let (columns, rowLength) = kept.map { ($0 + first, positions) } ?? (scratch.columns!, width)
            im2col(
                x + samples.lowerBound * g.inputChannels * g.inputPlane, batch: samples.count, geometry: g,
                into: columns, rowLength: rowLength)
            let product = scratch.product  // (O, n·OH·OW)
            gemm(
                transposeA: false, transposeB: false, m: g.outputChannels, n: width, k: g.patchSize,
                w, columns, rowLengthB: rowLength, product)
            swapOuterAxes(
                product, outer: g.outputChannels, inner: samples.count, run: g.outputPlane,
                into: y + samples.lowerBound * g.outputChannels * g.outputPlane, samplesInner: true, adding: bias)
        }
    }

    /// dx = convᵀ(dy, w) + bias, the input gradient of `convolution` and the forward pass of ConvTranspose2d:
    /// by Winograd where `runsByWinograd`, else a GEMM and col2im (with the bias, which col2im adds to each
    /// pixel's sum: the bits of adding it after).
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
        if runsByWinograd(g) {
            return convolutionInputGradientByWinograd(dy, w, bias: bias, batch: batch, geometry: g, into: dx)
        }
        convolutionInputGradientByColumns(dy, w, bias: bias, batch: batch, geometry: g, into: dx)
    }

    /// `convolutionInputGradient` by a GEMM and col2im, for any geometry that does not cover the whole input.
    public static func convolutionInputGradientByColumns(
        _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil, batch: Int,
        geometry g: ConvGeometry, into dx: UnsafeMutablePointer<Float>
    ) {
        forEachChunk(batch: batch, geometry: g, ownColumns: true) { samples, scratch in
            let (gathered, columns) = (scratch.product, scratch.columns!)  // (O, n·OH·OW), (C·k·k, n·OH·OW)
            swapOuterAxes(
                dy + samples.lowerBound * g.outputChannels * g.outputPlane, outer: samples.count,
                inner: g.outputChannels, run: g.outputPlane, into: gathered)
            gemm(
                transposeA: true, transposeB: false, m: g.patchSize, n: samples.count * g.outputPlane,
                k: g.outputChannels, w, gathered, columns)
            col2im(
                columns, batch: samples.count, geometry: g,
                into: dx + samples.lowerBound * g.inputChannels * g.inputPlane, adding: bias)
        }
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

    /// Runs `body` on chunks of a few samples, each with the chunk's own im2col matrix and product: the
    /// forward pass's im2col → GEMM → NCHW and the input gradient's NCHW → GEMM → col2im. A chunk's columns
    /// (`columnsInCache` floats at most, unless one sample holds more) are still in the core's own cache when
    /// the next pass reads them, and the input gradient holds one chunk's columns per thread instead of a
    /// whole batch's (12.8 MB for `dcgan28`'s middle layers: its peak memory fell 125 → 113 MB; speed
    /// 1.005-1.011x). The chunks are a power of two in number, so 2, 4, 8 or 16 threads share them evenly,
    /// and depend only on the shape, so the thread count never changes the bits; each thread runs its chunks
    /// whole, one after the other.
    /// - Parameter body: `samples`, the chunk's samples; `scratch.columns` holds `C·k·k × n·OH·OW` floats
    ///   (when `ownColumns`, else nil) and `scratch.product` `O × n·OH·OW`, for n the chunk's samples.
    static func forEachChunk(
        batch: Int, geometry g: ConvGeometry, ownColumns: Bool,
        _ body: (
            _ samples: Range<Int>,
            _ scratch: (columns: UnsafeMutablePointer<Float>?, product: UnsafeMutablePointer<Float>)
        ) -> Void
    ) {
        let floatsPerSample = g.patchSize * g.outputPlane
        var chunks = 1
        while chunks * 2 <= batch, batch * floatsPerSample / chunks > columnsInCache { chunks *= 2 }
        let largest = (batch + chunks - 1) / chunks
        parallel(chunks, grain: 1) { run in
            let columns = ownColumns ? Storage(count: g.patchSize * largest * g.outputPlane) : nil
            let product = Storage(count: g.outputChannels * largest * g.outputPlane)
            for chunk in run {
                body((batch * chunk / chunks)..<(batch * (chunk + 1) / chunks), (columns?.base, product.base))
            }
        }
    }

    /// The im2col floats a chunk of `forEachChunk` aims at: 1 MB, a Zen 4 core's L2. On `dcgan28` 2 and 4 MB
    /// chunks ran 1.01x (each chunk's GEMM packs the weight afresh) and 512 KB 0.97x; 1 MB keeps its batch
    /// of 64 in 16 chunks, one for each thread of the 16-core machine.
    public static let columnsInCache = 1 << 18
}
