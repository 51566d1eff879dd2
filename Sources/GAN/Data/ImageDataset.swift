import Foundation

/// A labelled set of greyscale images held in memory as bytes (60,000 MNIST digits at 64×64 are 246 MB as
/// bytes, 983 MB as floats); batches are scaled to floats as they are taken.
public struct ImageDataset {
    public enum Split: String { case train, test }

    /// The pixel range images are scaled to: torchvision's Normalize((0.5,), (0.5,)) gives [−1, 1], ToTensor alone [0, 1].
    public enum ValueRange: String, Codable { case symmetric = "[-1, 1]", unit = "[0, 1]" }

    public let imageSize: Int
    public let labels: [Int]
    /// `(count, size, size)` bytes.
    let pixels: [UInt8]
    public let source: String

    public var count: Int { labels.count }

    public init(pixels: [UInt8], labels: [Int], imageSize: Int, source: String) {
        precondition(pixels.count == labels.count * imageSize * imageSize)
        self.pixels = pixels
        self.labels = labels
        self.imageSize = imageSize
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
        let plane = imageSize * imageSize
        return ImageDataset(
            pixels: Array(pixels[(range.lowerBound * plane)..<(range.upperBound * plane)]),
            labels: Array(labels[range]),
            imageSize: imageSize, source: "\(source) [\(range.lowerBound)..<\(range.upperBound)]")
    }

    /// Images `indices`, scaled: `(indices.count, 1, size, size)`, and their labels.
    public func batch<C: Collection>(_ indices: C, range: ValueRange) -> (images: Tensor, labels: [Int])
    where C.Element == Int {
        let plane = imageSize * imageSize
        let images = Tensor(uninitialized: [indices.count, 1, imageSize, imageSize])
        let (scale, shift): (Float, Float) = range == .symmetric ? (2 / 255, -1) : (1 / 255, 0)
        for (n, index) in indices.enumerated() {
            let target = images.pointer + n * plane
            pixels.withUnsafeBufferPointer { source in
                for i in 0..<plane { target[i] = Float(source[index * plane + i]) * scale + shift }
            }
        }
        return (images, indices.map { labels[$0] })
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
