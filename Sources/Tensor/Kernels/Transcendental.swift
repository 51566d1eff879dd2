import Foundation

extension Kernels {
    /// eʸ for y ≤ 0 in plain float arithmetic, so that a loop of it vectorises (libm's expf is a call per
    /// value): y = n·ln 2 + r with |r| ≤ ln 2 / 2, eʳ by its Taylor polynomial to r⁷ (error below 1e-8
    /// relative), times 2ⁿ built from its exponent bits. Below −87 (e⁻⁸⁷ ≈ 1.6e-38, the smallest normal
    /// floats) it returns e⁻⁸⁷.
    @inlinable @inline(__always) public static func exponentialOfNegative(_ y: Float) -> Float {
        let y = Swift.max(y, -87)
        // Rounded to the nearest integer by adding and subtracting 1.5·2²³, which leaves no fraction bits:
        // plain float arithmetic, so the loop vectorises. (`.rounded(.toNearestOrEven)` is one instruction
        // only with SSE4.1; on the x86-64 baseline this package is built for, it calls rintf per value.)
        let magic: Float = 12_582_912
        let n = (y * 1.442_695_04 + magic) - magic
        let r = (y - n * 0.693_145_751_953_125) - n * 1.428_606_765_330_187e-06  // ln 2 in two parts
        var p: Float = 1 / 5040
        p = p * r + 1 / 720
        p = p * r + 1 / 120
        p = p * r + 1 / 24
        p = p * r + 1 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        return p * Float(bitPattern: UInt32(Int32(n) + 127) << 23)
    }

    /// tanh x, vectorisable: (1 − e)/(1 + e) with e = e^(−2|x|), the sign of x; near 0, where that
    /// difference cancels, its odd Taylor polynomial to x⁷. Within 1e-6 relative of libm's.
    @inlinable @inline(__always) public static func hyperbolicTangent(_ x: Float) -> Float {
        let a = Swift.min(Swift.abs(x), 9)  // tanh 9 rounds to 1
        let e = exponentialOfNegative(-2 * a)
        let far = (1 - e) / (1 + e)
        let s = a * a
        let near = a * (1 + s * (-1 / 3 + s * (2 / 15 + s * (-17 / 315))))
        let t = a < 0.0625 ? near : far
        return Float(signOf: x, magnitudeOf: t)
    }

    /// The logistic function 1/(1 + e⁻ˣ), vectorisable and without overflow: with e = e^(−|x|), 1/(1 + e) for
    /// x ≥ 0 and e/(1 + e) below.
    @inlinable @inline(__always) public static func logistic(_ x: Float) -> Float {
        let e = exponentialOfNegative(-Swift.abs(x))
        let s = 1 / (1 + e)
        return x >= 0 ? s : e * s
    }
}
