import Foundation

/// Random numbers addressed by (seed, stream, step, global sample index) through Philox: the noise, fake
/// label and penalty weight of sample i at step s are the same whichever process draws them and however
/// the batch is split, so the training is the same on 1, 2 or 4 ranks.
public struct SampleRandom {
    public enum Stream: UInt32 {
        case noise = 1, generatorNoise, fakeLabels, generatorLabels, penaltyWeights, fixedNoise, epochOrder, flips
    }

    /// The step keys of draws made outside training steps, where a training step's number would collide.
    public enum Key {
        /// The fixed noise of the sample grid.
        public static let grid = 0
        /// The test split's losses after epoch `epoch` (from 1): negative, never a training step.
        public static func testSplit(afterEpoch epoch: Int) -> Int { -1 - epoch }
        /// `swiftgan evaluate` and evaluation during training.
        public static let evaluation = 1 << 29
        /// `swiftgan sample`.
        public static let sampling = 1 << 30
    }

    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    private var key: (UInt32, UInt32) { (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)) }

    /// Four words for block `block` of sample `sample` at `step` in `stream`.
    @inline(__always) func words(_ stream: Stream, step: Int, sample: Int, block: Int) -> Philox.Block {
        Philox.block(
            key: key,
            counter: (
                UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: sample),
                UInt32(truncatingIfNeeded: step), stream.rawValue
            ))
    }

    /// `count` standard normals for one sample, written to `target` (Box–Muller on the words of blocks 0, 1, ...).
    public func normals(_ stream: Stream, step: Int, sample: Int, count: Int, into target: UnsafeMutablePointer<Float>)
    {
        Philox.normals(
            key: key,
            counter: (UInt32(truncatingIfNeeded: sample), UInt32(truncatingIfNeeded: step), stream.rawValue),
            count: count, into: target)
    }

    /// Noise `(samples.count, size)` for the given global sample indices.
    public func noise(_ stream: Stream, step: Int, samples: Range<Int>, size: Int) -> Tensor {
        let z = Tensor(uninitialized: [samples.count, size])
        for (row, sample) in samples.enumerated() {
            normals(stream, step: step, sample: sample, count: size, into: z.pointer + row * size)
        }
        return z
    }

    /// A uniform value in [0, 1) for one sample.
    public func uniform(_ stream: Stream, step: Int, sample: Int) -> Float {
        Philox.unit(words(stream, step: step, sample: sample, block: 0).0)
    }

    /// A uniform class in 0..<classes for one sample.
    public func label(_ stream: Stream, step: Int, sample: Int, classes: Int) -> Int {
        Int((UInt64(words(stream, step: step, sample: sample, block: 0).0) * UInt64(classes)) >> 32)
    }

    /// A permutation of 0..<count for `epoch` (Fisher–Yates on Philox words): one global order per epoch.
    public func permutation(count: Int, epoch: Int) -> [Int] {
        var order = Array(0..<count)
        guard count > 1 else { return order }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let w = words(.epochOrder, step: epoch, sample: i, block: 0).0
            let j = Int((UInt64(w) * UInt64(i + 1)) >> 32)
            order.swapAt(i, j)
        }
        return order
    }
}
