import CKernels
import Foundation

/// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
/// generator. The same (key, counter) always gives the same four words, so a draw can be addressed by
/// (seed, stream, step, sample index) and is the same whichever rank makes it.
public enum Philox {
    public typealias Block = (UInt32, UInt32, UInt32, UInt32)

    /// Ten rounds of the Philox bijection of `counter` under `key`.
    @inlinable public static func block(key: (UInt32, UInt32), counter: Block) -> Block {
        var (c0, c1, c2, c3) = counter
        var (k0, k1) = key
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let (hi0, lo0) = (UInt32(truncatingIfNeeded: p0 >> 32), UInt32(truncatingIfNeeded: p0))
            let (hi1, lo1) = (UInt32(truncatingIfNeeded: p1 >> 32), UInt32(truncatingIfNeeded: p1))
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
            k0 = k0 &+ 0x9E37_79B9
            k1 = k1 &+ 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// A uniform float in [0, 1) from the top 24 bits of a word.
    @inlinable public static func unit(_ word: UInt32) -> Float { Float(word >> 8) * 0x1p-24 }

    /// A uniform float in (0, 1], for logarithms.
    @inlinable public static func openUnit(_ word: UInt32) -> Float { Float((word >> 8) + 1) * 0x1p-24 }

    /// `count` standard normals from blocks 0, 1, 2, ... at counters (block, c₁, c₂, c₃) under `key`: block b's
    /// words (w₀, w₁, w₂, w₃) give normals 4b to 4b + 3 by Box–Muller on the pairs (w₀, w₁) and (w₂, w₃),
    /// r·cos θ then r·sin θ, with r = √(−2 ln u), u = `openUnit(w₀)`, and θ = 2π·`unit(w₁)`.
    ///
    /// Computed sixteen blocks at a time in C (`swiftgan_philox_normals`), with its own logarithm, sine and
    /// cosine: over every word (checked exhaustively), r within 1.6e-7 relative and cos θ, sin θ within 1e-7 of
    /// the exact values, closer than libm's logf and sincosf on the float angle, whose scalar calls were 2.5%
    /// of an `mlp-gan` step.
    public static func normals(
        key: (UInt32, UInt32), counter: (UInt32, UInt32, UInt32), count: Int, into target: UnsafeMutablePointer<Float>
    ) {
        swiftgan_philox_normals(key.0, key.1, counter.0, counter.1, counter.2, count, target)
    }
}

/// A stream of random numbers: Philox blocks at consecutive counters under one key (seed, stream).
/// Initialisers draw from it; training noise is keyed per sample instead (see `Philox.block`).
public final class RandomGenerator {
    public let seed: UInt64
    public let stream: UInt64
    private var index: UInt64 = 0
    private var buffered: [UInt32] = []

    public init(seed: UInt64, stream: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
    }

    public func nextWord() -> UInt32 {
        if buffered.isEmpty {
            let key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
            let counter = (
                UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
                UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)
            )
            let b = Philox.block(key: key, counter: counter)
            buffered = [b.3, b.2, b.1, b.0]
            index += 1
        }
        return buffered.removeLast()
    }

    /// Uniform in [low, high).
    public func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * Philox.unit(nextWord()) }

    /// Normal with the given mean and standard deviation (Box–Muller).
    public func normal(mean: Float = 0, std: Float = 1) -> Float {
        let u1 = Philox.openUnit(nextWord()), u2 = Philox.unit(nextWord())
        return mean + std * (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Float.pi * u2)
    }

    /// Uniform integer in 0..<bound.
    public func integer(below bound: Int) -> Int { Int((UInt64(nextWord()) * UInt64(bound)) >> 32) }

    public func fillUniform(_ x: Tensor, _ low: Float, _ high: Float) {
        for i in 0..<x.count { x.pointer[i] = uniform(low, high) }
    }

    public func fillNormal(_ x: Tensor, mean: Float = 0, std: Float = 1) {
        for i in 0..<x.count { x.pointer[i] = normal(mean: mean, std: std) }
    }
}
