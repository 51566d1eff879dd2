import Foundation

/// Loops over raw float buffers. The Tensor target builds with `-Ounchecked`, so these compile to
/// plain vectorised loops; every operation's forward and backward pass ends up in one of them.
public enum Kernels {
    @inlinable public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count { y[i] = a[i] + b[i] }
    }

    @inlinable public static func subtract(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count { y[i] = a[i] - b[i] }
    }

    @inlinable public static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count { y[i] = a[i] * b[i] }
    }

    @inlinable public static func divide(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count { y[i] = a[i] / b[i] }
    }

    /// y = a·x + b, elementwise with scalar a and b.
    @inlinable public static func affine(
        _ x: UnsafePointer<Float>, scale a: Float, shift b: Float, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count { y[i] = a * x[i] + b }
    }

    /// Applies `f` to every element; `f` is inlined at each call site.
    @inlinable public static func map(
        _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, _ f: (Float) -> Float
    ) {
        for i in 0..<count { y[i] = f(x[i]) }
    }

    /// x limited to `low...high` as `torch.clamp` does it: min(max(x, low), high), NaN staying NaN.
    @inlinable @inline(__always) public static func clamp(_ x: Float, _ low: Float, _ high: Float) -> Float {
        Swift.min(Swift.max(x, low), high)
    }

    /// Clamps `count` values in place to `range`.
    @inlinable public static func clamp(_ x: UnsafeMutablePointer<Float>, count: Int, to range: ClosedRange<Float>) {
        let (low, high) = (range.lowerBound, range.upperBound)
        for i in 0..<count { x[i] = clamp(x[i], low, high) }
    }

    /// Combines two buffers elementwise with `f`.
    @inlinable public static func zip(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int,
        _ f: (Float, Float) -> Float
    ) {
        for i in 0..<count { y[i] = f(a[i], b[i]) }
    }

    /// Sum of `count` floats, accumulated in Double so that long reductions match PyTorch's to ~1e-7.
    @inlinable public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        laneSum(count) { Double(x[$0]) }
    }

    /// Σ a·b in Double.
    @inlinable public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        laneSum(count) { Double(a[$0]) * Double(b[$0]) }
    }

    /// Σ x² over a short run (the optimiser's 2,048-value chunks) in sixteen Float lanes, added in Double at the
    /// end: three times `dot`'s speed on the x86-64 baseline, where Double lanes are two wide, and accurate to
    /// a few Float roundings over runs this short.
    @inlinable public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        let raw = UnsafeRawPointer(x)
        var lanes = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD16<Float>.self)
            lanes += v * v
            i += 16
        }
        var total = lanes.indices.reduce(0.0) { $0 + Double(lanes[$1]) }
        while i < count {
            total += Double(x[i]) * Double(x[i])
            i += 1
        }
        return total
    }

    /// Two sums at once, Σ terms(i).0 and Σ terms(i).1 for i in 0..<count in Double, each in four partial
    /// sums: batch norm's per-channel statistics. With one running sum each, the loops waited on the add's
    /// latency (3.9% of a `dcgan` step).
    @inlinable @inline(__always) static func pairedLaneSum(
        _ count: Int, _ terms: (Int) -> (Double, Double)
    ) -> (Double, Double) {
        var first = SIMD4<Double>(), second = SIMD4<Double>()
        var i = 0
        while i + 4 <= count {
            let (a0, b0) = terms(i), (a1, b1) = terms(i + 1), (a2, b2) = terms(i + 2), (a3, b3) = terms(i + 3)
            first += SIMD4(a0, a1, a2, a3)
            second += SIMD4(b0, b1, b2, b3)
            i += 4
        }
        var a = (first[0] + first[1]) + (first[2] + first[3])
        var b = (second[0] + second[1]) + (second[2] + second[3])
        while i < count {
            let (x, y) = terms(i)
            a += x
            b += y
            i += 1
        }
        return (a, b)
    }

    /// Σ term(i) for i in 0..<count in Double, in eight partial sums: they break the dependency chain so the
    /// loop vectorises (one running sum took 1.3 ns a value, the gradient norm 6.6% of a `wgan` step).
    @inlinable @inline(__always) static func laneSum(_ count: Int, _ term: (Int) -> Double) -> Double {
        var partial = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        var i = 0
        while i + 8 <= count {
            partial.0 += term(i)
            partial.1 += term(i + 1)
            partial.2 += term(i + 2)
            partial.3 += term(i + 3)
            partial.4 += term(i + 4)
            partial.5 += term(i + 5)
            partial.6 += term(i + 6)
            partial.7 += term(i + 7)
            i += 8
        }
        var total =
            ((partial.0 + partial.1) + (partial.2 + partial.3)) + ((partial.4 + partial.5) + (partial.6 + partial.7))
        while i < count {
            total += term(i)
            i += 1
        }
        return total
    }

    /// y = x + v[c] or x · v[c] on every element of channel c of `(N, C, S)`; x and y may be one buffer. The
    /// runs are split over the threads by samples (`ChannelLayout.forEachRunSplittingBatch`).
    static func channels(
        _ operation: ChannelOperation, _ x: UnsafePointer<Float>, _ v: UnsafePointer<Float>, layout: ChannelLayout,
        into y: UnsafeMutablePointer<Float>
    ) {
        let s = layout.spatial
        if s == 1 {  // rows (N, C), a Linear's bias: one vectorised pass per row rather than a run per value
            let channels = layout.channels
            parallel(layout.batch, grain: Swift.max(1, 32_768 / Swift.max(channels, 1))) { rows in
                for n in rows {
                    let (x, y) = (x + n * channels, y + n * channels)
                    switch operation {
                    case .add: for c in 0..<channels { y[c] = x[c] + v[c] }
                    case .multiply: for c in 0..<channels { y[c] = x[c] * v[c] }
                    }
                }
            }
            return
        }
        switch operation {
        case .add:
            layout.forEachRunSplittingBatch { c, start in
                let b = v[c]
                for i in start..<(start + s) { y[i] = x[i] + b }
            }
        case .multiply:
            layout.forEachRunSplittingBatch { c, start in
                let a = v[c]
                for i in start..<(start + s) { y[i] = x[i] * a }
            }
        }
    }
}
