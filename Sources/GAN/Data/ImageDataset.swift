import Foundation

/// A labelled set of images held as bytes (60,000 MNIST digits at 64×64 are 246 MB as bytes, 983 MB as
/// floats), in memory or memory-mapped from an image folder's cache; batches are scaled to floats as they
/// are taken.
public struct ImageDataset {
    public enum Split: String { case train, test }

    /// The pixel range images are scaled to: torchvision's Normalize((0.5,), (0.5,)) gives [−1, 1], ToTensor alone [0, 1].
    public enum ValueRange: String, Codable { case symmetric = "[-1, 1]", unit = "[0, 1]" }

    public let imageSize: Int
    public let channels: Int
    public let labels: [Int]
    /// `(slots, C, size, size)` bytes from `pixelOffset` on.
    let pixels: Data
    let pixelOffset: Int
    /// The slot of each image in `pixels`, when some slots are left out (unreadable files); nil: image i is slot i.
    let slots: [Int]?
    public let source: String

    public var count: Int { labels.count }

    public init(pixels: [UInt8], labels: [Int], imageSize: Int, channels: Int = 1, source: String) {
        self.init(
            pixels: Data(pixels), offset: 0, slots: nil, labels: labels, imageSize: imageSize, channels: channels,
            source: source)
    }

    init(pixels: Data, offset: Int, slots: [Int]?, labels: [Int], imageSize: Int, channels: Int, source: String) {
        precondition(
            pixels.count - offset >= (slots?.max().map { $0 + 1 } ?? labels.count) * channels * imageSize * imageSize)
        self.pixels = pixels
        self.pixelOffset = offset
        self.slots = slots
        self.labels = labels
        self.imageSize = imageSize
        self.channels = channels
        self.source = source
    }

    /// The IDX files of `split` in `directory` (`train-images-idx3-ubyte[.gz]`, `t10k-...`), resized to
    /// `imageSize` where that differs from the files'.
    public static func load(directory: URL, split: Split, imageSize: Int) throws -> ImageDataset {
        let prefix = split == .train ? "train" : "t10k"
        let imagesFile = try IDXFile.read(locate("\(prefix)-images-idx3-ubyte", in: directory))
        let labelsFile = try IDXFile.read(locate("\(prefix)-labels-idx1-ubyte", in: directory))
        let imagesPath = directory.appendingPathComponent("\(prefix)-images-idx3-ubyte").path
        guard imagesFile.dimensions.count == 3, imagesFile.dimensions[1] == imagesFile.dimensions[2] else {
            throw IDXFile.ReadError.invalid(
                path: imagesPath, reason: "expected square images (count, rows, columns), got \(imagesFile.dimensions)")
        }
        guard labelsFile.dimensions.count == 1, labelsFile.dimensions[0] == imagesFile.dimensions[0] else {
            throw IDXFile.ReadError.invalid(
                path: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte").path,
                reason: "\(labelsFile.dimensions.first ?? 0) labels for \(imagesFile.dimensions[0]) images")
        }
        let labels = labelsFile.values.map(Int.init)
        if let bad = labels.first(where: { $0 > 9 }) {
            throw IDXFile.ReadError.invalid(
                path: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte").path,
                reason: "label \(bad) is not a digit class 0-9")
        }
        let side = imagesFile.dimensions[1]
        let pixels =
            side == imageSize
            ? imagesFile.values : resizeBilinear(imagesFile.values, count: labels.count, from: side, to: imageSize)
        return ImageDataset(
            pixels: pixels, labels: labels, imageSize: imageSize, source: "\(directory.path) (\(split.rawValue))")
    }

    /// The path of `name` or `name.gz` in `directory`, or an error naming both.
    static func locate(_ name: String, in directory: URL) throws -> URL {
        for candidate in [name + ".gz", name] {
            let url = directory.appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw IDXFile.ReadError.unreadable(
            path: directory.appendingPathComponent(name).path,
            reason: "neither \(name) nor \(name).gz is in \(directory.path)")
    }

    /// The images and labels in `range`, as a dataset of their own (for short runs and tests).
    public func subset(_ range: Range<Int>) -> ImageDataset {
        ImageDataset(
            pixels: pixels, offset: pixelOffset, slots: range.map { slots?[$0] ?? $0 }, labels: Array(labels[range]),
            imageSize: imageSize, channels: channels,
            source: "\(source) [\(range.lowerBound)..<\(range.upperBound)]")
    }

    /// Images `indices`, scaled: `(indices.count, C, size, size)`, and their labels. `flips[n]` mirrors the
    /// n-th image left to right.
    public func batch<C: Collection>(
        _ indices: C, range: ValueRange, flips: [Bool]? = nil
    ) -> (
        images: Tensor, labels: [Int]
    )
    where C.Element == Int {
        let images = Tensor(uninitialized: [indices.count, channels, imageSize, imageSize])
        write(Array(indices), range: range, flips: flips, into: images.pointer)
        return (images, indices.map { labels[$0] })
    }

    /// Writes images `indices`, scaled, flipped where `flips` says, to `target` `(N, C, size, size)`; safe on
    /// any thread.
    func write(_ indices: [Int], range: ValueRange, flips: [Bool]?, into target: UnsafeMutablePointer<Float>) {
        let side = imageSize, image = channels * side * side
        let (scale, shift): (Float, Float) = range == .symmetric ? (2 / 255, -1) : (1 / 255, 0)
        pixels.withUnsafeBytes { bytes in
            let base = bytes.bindMemory(to: UInt8.self).baseAddress! + pixelOffset
            for (n, index) in indices.enumerated() {
                let (source, target) = (base + (slots?[index] ?? index) * image, target + n * image)
                if flips?[n] ?? false {
                    for row in 0..<(channels * side) {
                        for x in 0..<side {
                            target[row * side + x] = Float(source[row * side + side - 1 - x]) * scale + shift
                        }
                    }
                } else {
                    for i in 0..<image { target[i] = Float(source[i]) * scale + shift }
                }
            }
        }
    }

    /// Bilinear resize of each image as PIL does it when torchvision's Resize enlarges an image: sample
    /// points at pixel centres, edges clamped, the result rounded back to bytes.
    static func resizeBilinear(_ source: [UInt8], count: Int, from input: Int, to output: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count * output * output)
        let taps = BilinearTaps(from: input, to: output)
        for n in 0..<count {
            let image = n * input * input, target = n * output * output
            for y in 0..<output {
                for x in 0..<output {
                    let v = taps.sample(y, x) { Double(source[image + $0 * input + $1]) }
                    result[target + y * output + x] = UInt8(min(max(v.rounded(), 0), 255))
                }
            }
        }
        return result
    }
}

/// Where bilinear resampling from `input` to `output` pixels reads: for each output coordinate, the two
/// source coordinates around its pixel centre (clamped to the edge) and the weight of the second.
struct BilinearTaps {
    let taps: [(low: Int, high: Int, weight: Double)]

    init(from input: Int, to output: Int) {
        let ratio = Double(input) / Double(output)
        taps = (0..<output).map { o in
            let position = min(max((Double(o) + 0.5) * ratio - 0.5, 0), Double(input - 1))
            let low = Int(position.rounded(.down))
            return (low, min(low + 1, input - 1), position - Double(low))
        }
    }

    /// The interpolated value at output pixel (y, x), reading source pixels through `pixel(row, column)`.
    @inline(__always) func sample(_ y: Int, _ x: Int, _ pixel: (Int, Int) -> Double) -> Double {
        let (r, c) = (taps[y], taps[x])
        let top = pixel(r.low, c.low) * (1 - c.weight) + pixel(r.low, c.high) * c.weight
        let bottom = pixel(r.high, c.low) * (1 - c.weight) + pixel(r.high, c.high) * c.weight
        return top * (1 - r.weight) + bottom * r.weight
    }
}
