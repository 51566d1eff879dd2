import CKernels

extension Kernels {
    /// Where each entry of one plane's block of the im2col matrix comes from: entry `(tap, position)`, for tap
    /// (ki, kj) and output position (oh, ow), is the offset in the input plane of the pixel that tap reads, or
    /// `H·W` (one slot past the plane) where it falls in the padding. The table is the same for every sample
    /// and channel, so im2col and col2im go through a plane with indexed loops instead of one short loop per
    /// output row, which cost more to set up than to copy at 7 wide.
    /// - Returns: `(k·k, OH·OW)` offsets.
    static func tapTable(_ g: ConvGeometry) -> [Int32] {
        var table = [Int32](repeating: Int32(g.inputPlane), count: g.kernel * g.kernel * g.outputPlane)
        for ki in 0..<g.kernel {
            for kj in 0..<g.kernel {
                let tap = (ki * g.kernel + kj) * g.outputPlane
                for oh in g.validRange(offset: ki, size: g.inputHeight, count: g.outputHeight) {
                    for ow in g.validRange(offset: kj, size: g.inputWidth, count: g.outputWidth) {
                        let (h, w) = (oh * g.stride - g.padding + ki, ow * g.stride - g.padding + kj)
                        table[tap + oh * g.outputWidth + ow] = Int32(h * g.inputWidth + w)
                    }
                }
            }
        }
        return table
    }

    /// Calls `body(plane, runs, scratch)` for every input plane of `batch` samples: `plane` is the plane's
    /// offset in the images `(N, C, H, W)`, `runs` the offset of its first run in the columns
    /// `(C·k·k, N·OH·OW)` (its run for tap t starts `t · N·OH·OW` further on), and `scratch` holds `H·W + 1`
    /// values for the body's use (im2col's zero-padded copy of the plane). The samples are split over the
    /// compute threads, as the GEMMs' column blocks of the columns and the elementwise loops split them, so
    /// that a thread reads and writes what it last touched itself (see `ChannelLayout.forEachRunSplittingBatch`).
    /// Within a piece the planes go channel by channel, as they did when the channels were split, so that one
    /// thread writes the same runs in the same order. (The weight gradient's GEMM, which splits the columns'
    /// rows, would prefer the channel split; the sample split, with the per-channel maps and the forward
    /// layout copy split by samples too, measured 1.00-1.07x on `dcgan` and `dcgan28` at 2 threads.)
    /// `rowLength` is the columns' row length, `N·OH·OW` unless they are a block of a wider matrix.
    @inline(__always) static func forEachPlane(
        batch: Int, geometry g: ConvGeometry, rowLength: Int? = nil,
        _ body: (_ plane: Int, _ runs: Int, _ scratch: UnsafeMutablePointer<Float>) -> Void
    ) {
        let valuesPerChannel = g.kernel * g.kernel * (rowLength ?? batch * g.outputPlane)
        let valuesPerSample = g.kernel * g.kernel * g.outputPlane * g.inputChannels
        parallel(batch, grain: Swift.max(1, 32_768 / Swift.max(valuesPerSample, 1))) { samples in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: g.inputPlane + 1)
            defer { scratch.deallocate() }
            for c in 0..<g.inputChannels {  // a channel's planes write neighbouring runs of the same rows
                for n in samples {
                    body((n * g.inputChannels + c) * g.inputPlane, c * valuesPerChannel + n * g.outputPlane, scratch)
                }
            }
        }
    }

    /// Unfolds a batch of images into the im2col matrix of `geometry`.
    /// - Parameters:
    ///   - images: `(N, C, H, W)`.
    ///   - columns: `(C·k·k, N·OH·OW)`: row (c, ki, kj) holds, for every output position of every sample,
    ///     the input pixel under kernel tap (ki, kj) of channel c, or 0 in the padding.
    ///   - rowLength: the columns' row length when they are the first `N·OH·OW` columns of a wider matrix.
    public static func im2col(
        _ images: UnsafePointer<Float>, batch: Int, geometry g: ConvGeometry, into columns: UnsafeMutablePointer<Float>,
        rowLength: Int? = nil
    ) {
        let rowLength = rowLength ?? batch * g.outputPlane
        if runsByPhase(g) {
            forEachPlane(batch: batch, geometry: g, rowLength: rowLength) { plane, runs, _ in
                swiftgan_im2col_stride2(
                    images + plane, g.inputHeight, g.inputWidth, g.kernel, g.padding, g.outputHeight, g.outputWidth,
                    columns + runs, rowLength)
            }
        } else {
            im2colGathering(images, batch: batch, geometry: g, into: columns, rowLength: rowLength)
        }
    }

    /// `im2col` for any geometry: one gather through `tapTable` per entry.
    public static func im2colGathering(
        _ images: UnsafePointer<Float>, batch: Int, geometry g: ConvGeometry, into columns: UnsafeMutablePointer<Float>,
        rowLength: Int
    ) {
        let (taps, positions) = (g.kernel * g.kernel, g.outputPlane)
        tapTable(g).withUnsafeBufferPointer { table in
            forEachPlane(batch: batch, geometry: g, rowLength: rowLength) { plane, runs, padded in
                // The plane and a 0 after it, which the padding's entries read.
                padded.update(from: images + plane, count: g.inputPlane)
                padded[g.inputPlane] = 0
                for t in 0..<taps {
                    let (run, sources) = (columns + runs + t * rowLength, table.baseAddress! + t * positions)
                    for q in 0..<positions { run[q] = padded[Int(sources[q])] }
                }
            }
        }
    }

    /// The tap table turned around for col2im: for each pixel of a plane, the offsets from the plane's first
    /// run in the columns of the entries that land on it, in tap order. Summing a pixel's entries in a
    /// register, then storing it once, ran twice as fast as adding each tap's run into the plane.
    /// - Returns: `entries`, pixel p's offsets at `entries[first[p]..<first[p + 1]]`.
    static func pixelEntries(_ g: ConvGeometry, rowLength: Int) -> (entries: [Int32], first: [Int32]) {
        // A plane's k·k runs lie within k·k rows of the columns; 32-bit offsets address 2³¹ values, far more than
        // a batch of any image size this trains (8 GB of columns per input channel).
        guard g.kernel * g.kernel * rowLength <= Int(Int32.max) else {
            fatalError("col2im: \(g) over \(rowLength / g.outputPlane) samples needs offsets wider than 32 bits")
        }
        // A counting sort of the tap table by pixel, which keeps tap order within a pixel. The padding's
        // slot, H·W, sorts last and is not read.
        let taps = tapTable(g)
        var first = [Int32](repeating: 0, count: g.inputPlane + 2)
        for pixel in taps { first[Int(pixel) + 1] += 1 }
        for p in 0...g.inputPlane { first[p + 1] += first[p] }
        var (entries, next) = ([Int32](repeating: 0, count: taps.count), first)
        for (i, pixel) in taps.enumerated() {  // i = t·OH·OW + q, in tap order
            let (t, q) = i.quotientAndRemainder(dividingBy: g.outputPlane)
            entries[Int(next[Int(pixel)])] = Int32(t * rowLength + q)
            next[Int(pixel)] += 1
        }
        return (entries, first)
    }

    /// Folds an im2col matrix back into images, summing each pixel's taps in tap order: the adjoint of
    /// `im2col`.
    /// - Parameters:
    ///   - columns: `(C·k·k, N·OH·OW)`.
    ///   - images: `(N, C, H, W)`, overwritten.
    ///   - bias: `(C)`, added to each pixel's sum when given (ConvTranspose2d's bias, without a pass of its own).
    public static func col2im(
        _ columns: UnsafePointer<Float>, batch: Int, geometry g: ConvGeometry, into images: UnsafeMutablePointer<Float>,
        adding bias: UnsafePointer<Float>? = nil
    ) {
        if runsByPhase(g) {
            let rowLength = batch * g.outputPlane
            forEachPlane(batch: batch, geometry: g) { plane, runs, _ in
                swiftgan_col2im_stride2(
                    columns + runs, rowLength, g.inputHeight, g.inputWidth, g.kernel, g.padding, g.outputHeight,
                    g.outputWidth, shift(bias, plane: plane, g), images + plane)
            }
        } else {
            col2imGathering(columns, batch: batch, geometry: g, into: images, adding: bias)
        }
    }

    /// Whether `im2col` and `col2im` run a plane through AVX-512 registers (`swiftgan_im2col_stride2`,
    /// `swiftgan_col2im_stride2`, CKernels says how): stride 2, with a padded row and an output row (plus the
    /// kernel's reach) within the kernels' 32 and 16 lanes. These are DCGAN's up- and down-sampling layers
    /// on planes up to 32 wide: all but the outermost of `dcgan`, all of `dcgan28` and `sngan`. The same bits as
    /// the gathers, which run everywhere else.
    public static func runsByPhase(_ g: ConvGeometry) -> Bool {
        let reach = (g.kernel - 1) / 2
        return hasAVX512 && g.stride == 2 && g.inputWidth + g.padding <= 32 && g.outputWidth + reach <= 16
            && g.outputHeight + reach <= 16
    }

    public static let hasAVX512 = swiftgan_has_avx512() != 0

    /// What col2im adds to every pixel of `plane` (an offset in `(N, C, H, W)`): its channel's bias, or 0.
    /// Adding 0 changes no sum: one that starts at +0 is never −0 (rounding to nearest, a sum is −0 only when
    /// both terms are), and x + 0 is x for every other x. So both col2im paths add it, bias or not.
    @inline(__always) static func shift(_ bias: UnsafePointer<Float>?, plane: Int, _ g: ConvGeometry) -> Float {
        bias.map { $0[plane / g.inputPlane % g.inputChannels] } ?? 0
    }

    /// `col2im` for any geometry: one gather through `pixelEntries` per entry.
    public static func col2imGathering(
        _ columns: UnsafePointer<Float>, batch: Int, geometry g: ConvGeometry, into images: UnsafeMutablePointer<Float>,
        adding bias: UnsafePointer<Float>?
    ) {
        let (entries, first) = pixelEntries(g, rowLength: batch * g.outputPlane)
        entries.withUnsafeBufferPointer { entries in
            first.withUnsafeBufferPointer { first in
                let (entries, first) = (entries.baseAddress!, first.baseAddress!)
                forEachPlane(batch: batch, geometry: g) { plane, runs, _ in
                    let (runs, image, shift) = (columns + runs, images + plane, shift(bias, plane: plane, g))
                    for p in 0..<g.inputPlane {
                        var sum: Float = 0
                        for e in Int(first[p])..<Int(first[p + 1]) { sum += runs[Int(entries[e])] }
                        image[p] = sum + shift
                    }
                }
            }
        }
    }

    /// `(A, B, S)` → `(B, A, S)`: swaps the two outer axes of a buffer, moving contiguous runs of `S`.
    /// Converts between NCHW and the GEMM layout `(C, N·H·W)` in both directions. The threads split the
    /// samples' axis (`B` when `samplesInner`, else `A`), as the loops before and after split them.
    /// - Parameter bias: `(A)`, added to every value of run (i, j) on the way when given (Conv2d's bias).
    public static func swapOuterAxes(
        _ x: UnsafePointer<Float>, outer a: Int, inner b: Int, run s: Int, into y: UnsafeMutablePointer<Float>,
        samplesInner: Bool = false, adding bias: UnsafePointer<Float>? = nil
    ) {
        @inline(__always) func move(_ i: Int, _ j: Int) {
            let (source, target) = (x + (i * b + j) * s, y + (j * a + i) * s)
            guard let bias else { return target.update(from: source, count: s) }
            let shift = bias[i]
            for q in 0..<s { target[q] = source[q] + shift }
        }
        guard samplesInner else {
            return parallel(a, grain: Swift.max(1, 32_768 / Swift.max(b * s, 1))) { rows in
                for i in rows { for j in 0..<b { move(i, j) } }
            }
        }
        parallel(b, grain: Swift.max(1, 32_768 / Swift.max(a * s, 1))) { samples in
            for j in samples { for i in 0..<a { move(i, j) } }
        }
    }
}
