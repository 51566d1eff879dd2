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

    /// Two independent standard normals from two words (Box–Muller): r·cos θ and r·sin θ, with
    /// r = √(−2 ln u₁), u₁ = `openUnit(a)`, and θ = 2π·`unit(b)`.
    @inlinable public static func normalPair(_ a: UInt32, _ b: UInt32) -> (cosine: Float, sine: Float) {
        let radius = (-2 * Foundation.log(openUnit(a))).squareRoot()
        var (sine, cosine): (Float, Float) = (0, 0)
        swiftgan_sincos(2 * Float.pi * unit(b), &sine, &cosine)
        return (radius * cosine, radius * sine)
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
