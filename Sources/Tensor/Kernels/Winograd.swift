import CKernels

/// Stride-2 4×4 convolutions with padding 1 (all of `dcgan28`'s and `sngan`'s large layers, both directions)
/// by Winograd F(4×4, 2×2): 25 GEMMs with about half the multiply-adds of im2col's one.
///
/// Split by the parities (a, b) of its rows and columns, the padded input becomes four phase planes, and the
/// convolution a stride-1 2×2 correlation of them all: y[o][i][j] = Σ over c, a, b, p, q of
/// w[o][c][2p + a][2q + b] · x_ab[c][i + p][j + q], with x_ab[c][m][n] = padded[c][2m + a][2n + b]. Its input
/// gradient is the same kind of correlation of the padded output gradient with each 2×2 kernel flipped,
/// giving the phase planes of dx. F(4×4, 2×2) computes a 4×4 tile of such a correlation from a 5×5 tile of
/// its input with 25 products per channel pair instead of 64 (CKernels' winograd.c): one GEMM per transformed
/// point, (tiles × channels in) · (channels in × channels out), over 4·C or O channels. The 7×7 outputs of
/// `dcgan28`'s middle layers need 2×2 tiles of 4×4, so the GEMMs hold 196/100 = 1.96x fewer multiply-adds.
///
/// The results are within about 1e-6 of the largest output of im2col's, not the same bits. They depend
/// only on the shape: each point's GEMM is computed whole by one thread, and each sample's transforms by one.
extension Kernels {
    /// Whether `convolution` and `convolutionInputGradient` take this path: kernel 4, stride 2, padding 1,
    /// even planes, and at least 64 channels on each side: `dcgan28`'s and `sngan`'s large layers (1.18x and
    /// 1.03x a step). `dcgan`'s thinner stride-2 layers (16-64 channels on 4-16 wide planes) ran 0.99x with
    /// them in, within noise, and are left to im2col.
    public static func runsByWinograd(_ g: ConvGeometry) -> Bool {
        g.kernel == 4 && g.stride == 2 && g.padding == 1 && g.inputHeight % 2 == 0 && g.inputWidth % 2 == 0
            && g.inputChannels >= 64 && g.outputChannels >= 64
    }

    /// y = conv(x, w) + bias by Winograd. x `(N, C, H, W)`; w `(O, C, 4, 4)`; bias `(O)` or nil;
    /// y `(N, O, H/2, W/2)`.
    public static func convolutionByWinograd(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil, batch: Int,
        geometry g: ConvGeometry, into y: UnsafeMutablePointer<Float>
    ) {
        let tiling = Tiling(rows: g.outputHeight, columns: g.outputWidth, batch: batch)
        let (inner, outer) = (4 * g.inputChannels, g.outputChannels)  // the four phases' channels; O
        let weights = transformWeights(w, geometry: g, flip: false)  // (25, O, 4C)
        // The padded sample spans every row a tile reads: 2·(4·tileRows + 1) rows (and columns).
        let tiles = transformInput(
            x, channels: g.inputChannels, height: g.inputHeight, width: g.inputWidth, step: 2, tiling: tiling,
            padded: (2 * (4 * tiling.rows + 1), 2 * (4 * tiling.columns + 1)))
        let products = multiply(tiles, weights, tiling: tiling, inner: inner, outer: outer, transposeWeights: true)
        transformOutput(
            products, tiling: tiling, channels: outer, step: 1, offset: 0, bias: bias, into: y,
            height: g.outputHeight, width: g.outputWidth)
    }

    /// dx = convᵀ(dy, w) + bias by Winograd. dy `(N, O, H/2, W/2)`; w `(O, C, 4, 4)`; bias `(C)` or nil;
    /// dx `(N, C, H, W)`.
    public static func convolutionInputGradientByWinograd(
        _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil, batch: Int,
        geometry g: ConvGeometry, into dx: UnsafeMutablePointer<Float>
    ) {
        // dx's phase planes are (H/2 + 1) × (W/2 + 1): their padded rows 2m + a, m ≤ H/2, cover rows 0 ... H − 1.
        let tiling = Tiling(rows: g.outputHeight + 1, columns: g.outputWidth + 1, batch: batch)
        let (inner, outer) = (g.outputChannels, 4 * g.inputChannels)  // O; the four phases' channels
        let weights = transformWeights(w, geometry: g, flip: true)  // (25, O, 4C)
        // dy padded by one all round (the full correlation): 4·tileRows + 1 rows.
        let tiles = transformInput(
            dy, channels: inner, height: g.outputHeight, width: g.outputWidth, step: 1, tiling: tiling,
            padded: (4 * tiling.rows + 1, 4 * tiling.columns + 1))
        let products = multiply(tiles, weights, tiling: tiling, inner: inner, outer: outer, transposeWeights: false)
        transformOutput(
            products, tiling: tiling, channels: g.inputChannels, step: 2, offset: 1, bias: bias, into: dx,
            height: g.inputHeight, width: g.inputWidth)
    }

    /// The 4×4 output tiles covering a `rows` × `columns` plane, for each of `batch` samples.
    struct Tiling {
        let rows: Int, columns: Int, batch: Int
        var perSample: Int { rows * columns }
        var total: Int { batch * perSample }

        init(rows: Int, columns: Int, batch: Int) {
            (self.rows, self.columns, self.batch) = ((rows + 3) / 4, (columns + 3) / 4, batch)
        }
    }

    /// w `(O, C, 4, 4)` transformed, `(25, O, 4·C)` (its kernels flipped for the input gradient); the threads
    /// share the outputs.
    private static func transformWeights(_ w: UnsafePointer<Float>, geometry g: ConvGeometry, flip: Bool) -> Storage {
        let weights = Storage(count: 25 * g.outputChannels * 4 * g.inputChannels)
        parallel(g.outputChannels, grain: 8) { outputs in
            swiftgan_winograd_weights(
                w, g.outputChannels, g.inputChannels, flip ? 1 : 0, outputs.lowerBound, outputs.upperBound,
                weights.base)
        }
        return weights
    }

    /// Every sample's input tiles, transformed: `(25, tiles, step²·C)`. Each sample is first laid out as
    /// `(rows, columns, C)`, padded, so that a tile entry's channels are one contiguous run.
    private static func transformInput(
        _ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, step: Int, tiling: Tiling,
        padded: (rows: Int, columns: Int)
    ) -> Storage {
        let rowLength = step * step * channels
        let tiles = Storage(count: 25 * tiling.total * rowLength)
        parallel(tiling.batch, grain: 1) { samples in
            let sample = Storage(count: padded.rows * padded.columns * channels)  // (rows, columns, C)
            for n in samples {
                swiftgan_winograd_pad(
                    x + n * channels * height * width, channels, height, width, padded.rows, padded.columns,
                    sample.base)
                swiftgan_winograd_input(
                    sample.base, padded.columns, channels, step, tiling.rows, tiling.columns,
                    tiles.base + n * tiling.perSample * rowLength, tiling.total * rowLength, rowLength)
            }
        }
        return tiles
    }

    /// The products `(25, tiles, step²·channels)` back to images `(N, channels, height, width)`: each sample's
    /// tiles into a grid of its phase planes `(4·tileRows, 4·tileColumns, step²·channels)`, in cache, then
    /// unpacked, pixel (h, w) from phase plane ((h + offset) mod step, (w + offset) mod step).
    private static func transformOutput(
        _ products: Storage, tiling: Tiling, channels: Int, step: Int, offset: Int, bias: UnsafePointer<Float>?,
        into images: UnsafeMutablePointer<Float>, height: Int, width: Int
    ) {
        let rowLength = step * step * channels
        parallel(tiling.batch, grain: 1) { samples in
            let grid = Storage(count: 16 * tiling.perSample * rowLength)
            for n in samples {
                swiftgan_winograd_output(
                    products.base + n * tiling.perSample * rowLength, tiling.total * rowLength, rowLength,
                    tiling.rows, tiling.columns, grid.base)
                swiftgan_winograd_unpack(
                    grid.base, 4 * tiling.columns, channels, step, offset, bias,
                    images + n * channels * height * width, height, width)
            }
        }
    }

    /// products[point] (tiles × outer) = tiles[point] (tiles × inner) · weights[point], the weights stored
    /// `(25, outer, inner)` when `transposeWeights`, else `(25, inner, outer)`. One thread computes each
    /// point's GEMM whole.
    private static func multiply(
        _ tiles: Storage, _ weights: Storage, tiling: Tiling, inner: Int, outer: Int, transposeWeights: Bool
    ) -> Storage {
        let products = Storage(count: 25 * tiling.total * outer)  // (25, tiles, outer)
        parallel(25, grain: 1) { points in
            for point in points {
                sgemm(
                    false, transposeWeights, tiling.total, outer, inner, 1, tiles.base + point * tiling.total * inner,
                    inner, weights.base + point * inner * outer, transposeWeights ? inner : outer, 0,
                    products.base + point * tiling.total * outer, outer)
            }
        }
        return products
    }
}
