import CKernels
import Foundation

/// The host backend: the loops of `Kernels`, OpenBLAS SGEMM and im2col convolutions, on
/// `ComputeThreads.count` threads (`Kernels.parallel`; results do not depend on the count). Memory comes from `BufferPool`.
public final class CPUBackend: Backend {
    public static let shared = CPUBackend()
    public var device: Device { .cpu }

    // MARK: Memory

    public func allocate(_ count: Int) -> (address: UInt, capacity: Int) {
        let (pointer, capacity) = BufferPool.shared.take(count)
        return (UInt(bitPattern: pointer), capacity)
    }

    public func release(_ address: UInt, capacity: Int) {
        BufferPool.shared.give(UnsafeMutablePointer(bitPattern: address).unsafelyUnwrapped, capacity: capacity)
    }

    public func fill(_ y: Tensor, with value: Float) { y.pointer.update(repeating: value, count: y.count) }
    public func copy(_ x: Tensor, into y: Tensor) { y.pointer.update(from: x.pointer, count: y.count) }
    public func upload(_ host: UnsafePointer<Float>, into y: Tensor) { y.pointer.update(from: host, count: y.count) }
    public func download(_ x: Tensor, into host: UnsafeMutablePointer<Float>) {
        host.update(from: x.pointer, count: x.count)
    }
    public func synchronize() {}

    // MARK: Elementwise

    public func unary(_ operation: UnaryOperation, _ x: Tensor, into y: Tensor) {
        let (xp, yp) = (x.pointer, y.pointer)
        Kernels.parallel(x.count) { piece in
            unary(operation, xp + piece.lowerBound, into: yp + piece.lowerBound, count: piece.count)
        }
    }

    private func unary(
        _ operation: UnaryOperation, _ xp: UnsafePointer<Float>, into yp: UnsafeMutablePointer<Float>, count n: Int
    ) {
        switch operation {
        case let .affine(scale, shift): Kernels.affine(xp, scale: scale, shift: shift, into: yp, count: n)
        case .square: Kernels.map(xp, into: yp, count: n) { $0 * $0 }
        case let .power(p): Kernels.map(xp, into: yp, count: n) { Foundation.pow($0, p) }
        case .squareRoot: swiftgan_square_root(xp, yp, n)
        case let .leakyRelu(slope): Kernels.map(xp, into: yp, count: n) { $0 > 0 ? $0 : slope * $0 }
        case .tanh: swiftgan_tanh(xp, yp, n)
        case .sigmoid: swiftgan_logistic(xp, yp, n)
        case let .clamp(low, high): Kernels.map(xp, into: yp, count: n) { Kernels.clamp($0, low, high) }
        }
    }

    public func binary(_ operation: BinaryOperation, _ a: Tensor, _ b: Tensor, into y: Tensor) {
        let (ap, bp, yp) = (a.pointer, b.pointer, y.pointer)
        Kernels.parallel(a.count) { piece in
            let start = piece.lowerBound
            binary(operation, ap + start, bp + start, into: yp + start, count: piece.count)
        }
    }

    private func binary(
        _ operation: BinaryOperation, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
        into yp: UnsafeMutablePointer<Float>, count n: Int
    ) {
        switch operation {
        case .add: Kernels.add(ap, bp, into: yp, count: n)
        case .subtract: Kernels.subtract(ap, bp, into: yp, count: n)
        case .multiply: Kernels.multiply(ap, bp, into: yp, count: n)
        case .divide: Kernels.divide(ap, bp, into: yp, count: n)
        case let .leakyReluGradient(slope): Kernels.zip(ap, bp, into: yp, count: n) { g, x in x > 0 ? g : slope * g }
        case .tanhGradient: Kernels.zip(ap, bp, into: yp, count: n) { g, y in g * (1 - y * y) }
        case .sigmoidGradient: Kernels.zip(ap, bp, into: yp, count: n) { g, y in g * y * (1 - y) }
        }
    }

    public func divide(_ x: Tensor, byScalar s: Tensor, into y: Tensor) {
        Kernels.affine(x.pointer, scale: 1 / s.pointer[0], shift: 0, into: y.pointer, count: x.count)
    }

    // MARK: Reductions and broadcasts

    public func sumRows(_ x: Tensor, rows: Int, into y: Tensor) {
        let width = x.count / Swift.max(rows, 1)
        for n in 0..<rows { y.pointer[n] = Float(Kernels.sum(x.pointer + n * width, count: width)) }
    }

    public func expandRows(_ v: Tensor, rows: Int, into y: Tensor) {
        let width = y.count / Swift.max(rows, 1)
        for n in 0..<rows { (y.pointer + n * width).update(repeating: v.pointer[n], count: width) }
    }

    public func dot(_ a: Tensor, _ b: Tensor) -> Double { Kernels.dot(a.pointer, b.pointer, count: a.count) }

    // MARK: Channels

    public func channels(_ operation: ChannelOperation, _ x: Tensor, _ v: Tensor, layout: ChannelLayout, into y: Tensor)
    {
        Kernels.channels(operation, x.pointer, v.pointer, layout: layout, into: y.pointer)
    }

    public func sumChannels(_ x: Tensor, layout: ChannelLayout, into y: Tensor) {
        var totals = [Double](repeating: 0, count: layout.channels)
        let (xp, s, channels) = (x.pointer, layout.spatial, layout.channels)
        totals.withUnsafeMutableBufferPointer { totals in  // threads write disjoint channels
            if s == 1 {  // rows (N, C): the same additions in the same order, a row at a time
                Kernels.parallel(channels, grain: Swift.max(1, 32_768 / Swift.max(layout.batch, 1))) { piece in
                    let first = piece.lowerBound
                    swiftgan_add_rows(xp + first, totals.baseAddress! + first, layout.batch, channels, piece.count)
                }
            } else {
                layout.forEachRunInParallel { c, start in totals[c] += Kernels.sum(xp + start, count: s) }
            }
        }
        for c in 0..<layout.channels { y.pointer[c] = Float(totals[c]) }
    }

    public func expandChannels(_ v: Tensor, layout: ChannelLayout, into y: Tensor) {
        let (yp, vp, s) = (y.pointer, v.pointer, layout.spatial)
        if s == 1 {  // rows (N, C), a Linear's bias as its GEMM's start: a row copied whole, not value by value
            let channels = layout.channels
            Kernels.parallel(layout.batch, grain: Swift.max(1, 32_768 / Swift.max(channels, 1))) { rows in
                for n in rows { (yp + n * channels).update(from: vp, count: channels) }
            }
            return
        }
        layout.forEachRunSplittingBatch { c, start in (yp + start).update(repeating: vp[c], count: s) }
    }

    public func copyChannels(_ x: Tensor, into y: Tensor, batch: Int, spatial: Int, offset: Int, toward: Bool) {
        let (xChannels, yChannels) = (x.count / Swift.max(batch * spatial, 1), y.count / Swift.max(batch * spatial, 1))
        let run = (toward ? xChannels : yChannels) * spatial
        for n in 0..<batch {
            if toward {
                (y.pointer + (n * yChannels + offset) * spatial).update(from: x.pointer + n * run, count: run)
            } else {
                (y.pointer + n * run).update(from: x.pointer + (n * xChannels + offset) * spatial, count: run)
            }
        }
    }

    public func gatherRows(_ table: Tensor, indices: [Int], into y: Tensor) {
        let width = table.shape[1]
        for (n, row) in indices.enumerated() {
            (y.pointer + n * width).update(from: table.pointer + row * width, count: width)
        }
    }

    public func scatterAddRows(_ values: Tensor, indices: [Int], into y: Tensor) {
        let width = values.shape[1]
        for (n, row) in indices.enumerated() {
            Kernels.add(
                y.pointer + row * width, values.pointer + n * width, into: y.pointer + row * width, count: width)
        }
    }

    // MARK: Linear algebra and convolution

    public func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, _ a: Tensor, _ b: Tensor, beta: Float,
        _ c: Tensor
    ) {
        Kernels.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a.pointer, b.pointer,
            beta: beta, c.pointer)
    }

    public func convolution(
        _ x: Tensor, _ w: Tensor, bias: Tensor?, geometry: ConvGeometry, into y: Tensor, keepColumns: Storage?
    ) {
        Kernels.convolution(
            x.pointer, w.pointer, bias: bias.map { UnsafePointer($0.pointer) }, batch: x.shape[0], geometry: geometry,
            into: y.pointer, keepColumns: keepColumns)
    }

    public func convolutionInputGradient(
        _ dy: Tensor, _ w: Tensor, bias: Tensor?, geometry: ConvGeometry, into dx: Tensor
    ) {
        Kernels.convolutionInputGradient(
            dy.pointer, w.pointer, bias: bias.map { UnsafePointer($0.pointer) }, batch: dy.shape[0],
            geometry: geometry, into: dx.pointer)
    }

    public func convolutionWeightGradient(
        _ x: Tensor, _ dy: Tensor, geometry: ConvGeometry, into dw: Tensor, columns: Storage?
    ) {
        Kernels.convolutionWeightGradient(
            x.pointer, dy.pointer, batch: x.shape[0], geometry: geometry, into: dw.pointer, columns: columns)
    }

    public func keptColumnsCount(geometry: ConvGeometry, batch: Int) -> Int {
        geometry.coversWholeInput ? 0 : geometry.patchSize * batch * geometry.outputPlane
    }

    // MARK: Batch norm

    public func batchNormSums(_ x: Tensor, layout: ChannelLayout) -> [Double] {
        let channels = layout.channels, s = layout.spatial, xp = x.pointer
        var sums = [Double](repeating: 0, count: 2 * channels)
        // Threads write disjoint channels of the buffer.
        sums.withUnsafeMutableBufferPointer { sums in
            guard s > 1 else {
                return layout.forEachRowInParallel { piece, row in
                    for c in piece {
                        let v = Double(xp[row + c])
                        sums[c] += v
                        sums[channels + c] += v * v
                    }
                }
            }
            layout.forEachRunInParallel { c, start in
                let run = xp + start
                let (total, squares) = Kernels.pairedLaneSum(s) { i in
                    let v = Double(run[i])
                    return (v, v * v)
                }
                sums[c] += total
                sums[channels + c] += squares
            }
        }
        return sums
    }

    public func batchNormApply(
        _ x: Tensor, scale: [Float], shift: [Float], activationSlope: Float?, layout: ChannelLayout, into y: Tensor
    ) {
        guard let slope = activationSlope else {
            return batchNormApply(x, scale: scale, shift: shift, layout: layout, into: y) { $0 }
        }
        // The activation as `unary(.leakyRelu)` computes it, on the normalised value: the same bits.
        batchNormApply(x, scale: scale, shift: shift, layout: layout, into: y) { $0 > 0 ? $0 : slope * $0 }
    }

    @inline(__always) private func batchNormApply(
        _ x: Tensor, scale: [Float], shift: [Float], layout: ChannelLayout, into y: Tensor,
        then activation: (Float) -> Float
    ) {
        let (xp, yp, s) = (x.pointer, y.pointer, layout.spatial)
        guard s > 1 else {
            return layout.forEachRowInParallel { piece, row in
                for c in piece { yp[row + c] = activation(xp[row + c] * scale[c] + shift[c]) }
            }
        }
        layout.forEachRunSplittingBatch { c, start in
            let (a, b) = (scale[c], shift[c])
            for i in start..<(start + s) { yp[i] = activation(xp[i] * a + b) }
        }
    }

    public func batchNormGradientSums(_ dy: Tensor, _ x: Tensor, mean: [Float], layout: ChannelLayout) -> [Double] {
        let channels = layout.channels, s = layout.spatial
        let (xp, gp) = (x.pointer, dy.pointer)
        var sums = [Double](repeating: 0, count: 2 * channels)
        // Threads write disjoint channels of the buffer.
        sums.withUnsafeMutableBufferPointer { sums in
            guard s > 1 else {
                return layout.forEachRowInParallel { piece, row in
                    for c in piece {
                        let g = Double(gp[row + c])
                        sums[c] += g
                        sums[channels + c] += g * Double(xp[row + c] - mean[c])
                    }
                }
            }
            layout.forEachRunInParallel { c, start in
                let (m, x, g) = (mean[c], xp + start, gp + start)
                let (total, weighted) = Kernels.pairedLaneSum(s) { i in
                    (Double(g[i]), Double(g[i]) * Double(x[i] - m))
                }
                sums[c] += total
                sums[channels + c] += weighted
            }
        }
        return sums
    }

    public func batchNormInputGradient(
        _ dy: Tensor, _ x: Tensor, mean: [Float], inverseStd: [Float], scale: [Float], meanDy: [Float],
        meanDyXhat: [Float],
        layout: ChannelLayout, into dx: Tensor
    ) {
        let (xp, gp, dxp, s) = (x.pointer, dy.pointer, dx.pointer, layout.spatial)
        guard s > 1 else {
            return layout.forEachRowInParallel { piece, row in
                for c in piece {
                    let xhat = (xp[row + c] - mean[c]) * inverseStd[c]
                    dxp[row + c] = scale[c] * (gp[row + c] - meanDy[c] - xhat * meanDyXhat[c])
                }
            }
        }
        layout.forEachRunSplittingBatch { c, start in
            let (m, inverse, a, md, k) = (mean[c], inverseStd[c], scale[c], meanDy[c], meanDyXhat[c])
            for i in start..<(start + s) {
                let xhat = (xp[i] - m) * inverse
                dxp[i] = a * (gp[i] - md - xhat * k)
            }
        }
    }

    // MARK: Losses

    public func binaryCrossEntropy(_ p: Tensor, _ t: Tensor, into y: Tensor) throws {
        var total = 0.0
        for i in 0..<p.count {
            let (pi, ti) = (p.pointer[i], t.pointer[i])
            guard pi >= 0, pi <= 1 else {
                throw TensorError.invalidArgument(
                    operation: "binaryCrossEntropy",
                    detail: "input \(pi) is not a probability (does the model end in a Sigmoid?)")
            }
            let logP = Swift.max(Foundation.log(pi), -100), logNotP = Swift.max(Foundation.log(1 - pi), -100)
            total -= Double(ti * logP + (1 - ti) * logNotP)
        }
        y.pointer[0] = Float(total / Double(p.count))
    }

    public func binaryCrossEntropyGradient(_ p: Tensor, _ t: Tensor, _ g: Tensor, into dp: Tensor) {
        let factor = g.pointer[0] / Float(p.count)
        Kernels.zip(p.pointer, t.pointer, into: dp.pointer, count: p.count) { p, t in
            factor * (p - t) / Swift.max((1 - p) * p, 1e-12)
        }
    }

    public func binaryCrossEntropyWithLogits(_ x: Tensor, _ t: Tensor, into y: Tensor) {
        var total = 0.0
        for i in 0..<x.count {
            let (xi, ti) = (Double(x.pointer[i]), Double(t.pointer[i]))
            let m = Swift.max(-xi, 0)
            total += (1 - ti) * xi + m + Foundation.log(Foundation.exp(-m) + Foundation.exp(-xi - m))
        }
        y.pointer[0] = Float(total / Double(x.count))
    }

    public func binaryCrossEntropyWithLogitsGradient(_ x: Tensor, _ t: Tensor, _ g: Tensor, into dx: Tensor) {
        let factor = g.pointer[0] / Float(x.count)
        swiftgan_logistic(x.pointer, dx.pointer, x.count)
        Kernels.zip(dx.pointer, t.pointer, into: dx.pointer, count: x.count) { s, t in factor * (s - t) }
    }

    public func softmaxCrossEntropy(_ logits: Tensor, labels: [Int], into y: Tensor) {
        let (n, classes) = (logits.shape[0], logits.shape[1])
        var total = 0.0
        for row in 0..<n {
            let x = logits.pointer + row * classes
            let top = (0..<classes).reduce(-Float.infinity) { Swift.max($0, x[$1]) }
            let sum = (0..<classes).reduce(0.0) { $0 + Foundation.exp(Double(x[$1] - top)) }
            total += Foundation.log(sum) + Double(top) - Double(x[labels[row]])
        }
        y.pointer[0] = Float(total / Double(n))
    }

    public func softmaxCrossEntropyGradient(_ logits: Tensor, labels: [Int], _ g: Tensor, into dx: Tensor) {
        softmax(logits, into: dx)
        let (n, classes) = (logits.shape[0], logits.shape[1])
        for (row, label) in labels.enumerated() { dx.pointer[row * classes + label] -= 1 }
        Kernels.affine(dx.pointer, scale: g.pointer[0] / Float(n), shift: 0, into: dx.pointer, count: dx.count)
    }

    public func softmax(_ logits: Tensor, into y: Tensor) {
        let (n, classes) = (logits.shape[0], logits.shape[1])
        for row in 0..<n {
            let (x, p) = (logits.pointer + row * classes, y.pointer + row * classes)
            let top = (0..<classes).reduce(-Float.infinity) { Swift.max($0, x[$1]) }
            var sum: Float = 0
            for c in 0..<classes {
                p[c] = Foundation.exp(x[c] - top)
                sum += p[c]
            }
            for c in 0..<classes { p[c] /= sum }
        }
    }

    // MARK: Optimisers

    @discardableResult
    public func update(
        _ rule: OptimizerUpdate, parameters: Tensor, gradients: Tensor, state: [Tensor],
        clampingTo range: ClosedRange<Float>?
    ) -> Double {
        let (p, g) = (parameters.pointer, gradients.pointer)
        let (state0, state1) = (state.first?.pointer, state.dropFirst().first?.pointer)  // the rule's, in order
        // Chunks of 2,048 values (8 KiB an array) stay in L1 from the squares' read of the gradients through the
        // update to the clamp's read of the new values, so those two cost no extra trip to memory. Measured on
        // the 2-core VM: the separate norm and clamp passes were 3% and 3.7% of a `wgan` step. The chunks' sums
        // are added in chunk order, so the norm does not depend on the thread count.
        let (total, chunk) = (parameters.count, 2048)
        var squares = [Double](repeating: 0, count: (total + chunk - 1) / chunk)
        squares.withUnsafeMutableBufferPointer { squares in
            Kernels.parallel(squares.count, grain: 16) { chunks in
                for index in chunks {
                    let (first, count) = (index * chunk, Swift.min(chunk, total - index * chunk))
                    squares[index] = Kernels.sumOfSquares(g + first, count: count)
                    switch rule {
                    case let .adam(stepSize, beta1, beta2, epsilon, decay, correction2Root):
                        swiftgan_adam(
                            p + first, g + first, state0! + first, state1! + first, count, stepSize, beta1, beta2,
                            epsilon, decay, correction2Root)
                    case let .rmsprop(rate, alpha, epsilon):
                        swiftgan_rmsprop(p + first, g + first, state0! + first, count, rate, alpha, epsilon)
                    case let .sgd(rate):
                        for i in first..<(first + count) { p[i] = p[i] - rate * g[i] }
                    }
                    if let range { Kernels.clamp(p + first, count: count, to: range) }
                }
            }
        }
        return squares.reduce(0, +)
    }
}
