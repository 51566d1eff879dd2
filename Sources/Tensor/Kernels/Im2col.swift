extension Kernels {
    /// Unfolds a batch of images into the im2col matrix of `geometry`.
    /// - Parameters:
    ///   - images: `(N, C, H, W)`.
    ///   - columns: `(C·k·k, N·OH·OW)`: row (c, ki, kj) holds, for every output position of every sample,
    ///     the input pixel under kernel tap (ki, kj) of channel c, or 0 in the padding.
    public static func im2col(
        _ images: UnsafePointer<Float>, batch: Int, geometry g: ConvGeometry, into columns: UnsafeMutablePointer<Float>
    ) {
        let plane = g.outputPlane, outW = g.outputWidth, outH = g.outputHeight
        let rowLength = batch * plane
        for c in 0..<g.inputChannels {
            for ki in 0..<g.kernel {
                let rows = g.validRange(offset: ki, size: g.inputHeight, count: outH)
                for kj in 0..<g.kernel {
                    let cols = g.validRange(offset: kj, size: g.inputWidth, count: outW)
                    let row = columns + ((c * g.kernel + ki) * g.kernel + kj) * rowLength
                    for n in 0..<batch {
                        let source = images + (n * g.inputChannels + c) * g.inputPlane
                        let target = row + n * plane
                        for oh in 0..<outH {
                            let line = target + oh * outW
                            guard rows.contains(oh) else {
                                line.update(repeating: 0, count: outW)
                                continue
                            }
                            let sourceLine = source + (oh * g.stride - g.padding + ki) * g.inputWidth
                            for ow in 0..<cols.lowerBound { line[ow] = 0 }
                            if g.stride == 1 {
                                let start = cols.lowerBound - g.padding + kj
                                (line + cols.lowerBound).update(from: sourceLine + start, count: cols.count)
                            } else {
                                for ow in cols { line[ow] = sourceLine[ow * g.stride - g.padding + kj] }
                            }
                            for ow in cols.upperBound..<outW { line[ow] = 0 }
                        }
                    }
                }
            }
        }
    }

    /// Folds an im2col matrix back into images, summing overlapping taps: the adjoint of `im2col`.
    /// - Parameters:
    ///   - columns: `(C·k·k, N·OH·OW)`.
    ///   - images: `(N, C, H, W)`, overwritten.
    public static func col2im(
        _ columns: UnsafePointer<Float>, batch: Int, geometry g: ConvGeometry, into images: UnsafeMutablePointer<Float>
    ) {
        images.update(repeating: 0, count: batch * g.inputChannels * g.inputPlane)
        let plane = g.outputPlane, outW = g.outputWidth, outH = g.outputHeight
        let rowLength = batch * plane
        for c in 0..<g.inputChannels {
            for ki in 0..<g.kernel {
                let rows = g.validRange(offset: ki, size: g.inputHeight, count: outH)
                for kj in 0..<g.kernel {
                    let cols = g.validRange(offset: kj, size: g.inputWidth, count: outW)
                    let row = columns + ((c * g.kernel + ki) * g.kernel + kj) * rowLength
                    for n in 0..<batch {
                        let target = images + (n * g.inputChannels + c) * g.inputPlane
                        let source = row + n * plane
                        for oh in rows {
                            let line = source + oh * outW
                            let targetLine = target + (oh * g.stride - g.padding + ki) * g.inputWidth
                            for ow in cols { targetLine[ow * g.stride - g.padding + kj] += line[ow] }
                        }
                    }
                }
            }
        }
    }

    /// `(A, B, S)` → `(B, A, S)`: swaps the two outer axes of a buffer, moving contiguous runs of `S`.
    /// Converts between NCHW and the GEMM layout `(C, N·H·W)` in both directions.
    public static func swapOuterAxes(
        _ x: UnsafePointer<Float>, outer a: Int, inner b: Int, run s: Int, into y: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<a {
            for j in 0..<b { (y + (j * a + i) * s).update(from: x + (i * b + j) * s, count: s) }
        }
    }
}
