import Foundation

/// What torchvision's `Grayscale`/`convert("RGB")`, `Resize(size)` and `CenterCrop(size)` do to a PIL image,
/// on decoded bytes: the channel count converted as PIL converts it, the shorter side resized to `size` with
/// PIL's antialiased bilinear filter, then the centre `size`×`size` cut out. Results match Pillow's to ±1 per
/// byte (a test compares them).
struct ImageTransform: Equatable {
    let size: Int
    let channels: Int

    /// `(C, size, size)` bytes.
    func apply(_ image: DecodedImage) -> [UInt8] {
        let converted = convert(image)
        let (width, height) = (converted.width, converted.height)
        // torchvision's Resize(int): the shorter side becomes `size`, the longer one keeps the aspect (truncated).
        let (resizedWidth, resizedHeight) =
            width <= height
            ? (size, Int(Double(size) * Double(height) / Double(width)))
            : (Int(Double(size) * Double(width) / Double(height)), size)
        let resized = Self.resize(converted, toWidth: max(resizedWidth, size), height: max(resizedHeight, size))
        // CenterCrop: Python's round, half to even.
        let top = Int((Double(resized.height - size) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(resized.width - size) / 2).rounded(.toNearestOrEven))
        var planes = [UInt8](repeating: 0, count: channels * size * size)
        for c in 0..<channels {
            for y in 0..<size {
                for x in 0..<size {
                    planes[(c * size + y) * size + x] =
                        resized.pixels[((top + y) * resized.width + left + x) * channels + c]
                }
            }
        }
        return planes
    }

    /// PIL's `convert("L")` (ITU-R 601-2 luma in 16-bit fixed point) or `convert("RGB")` (grey repeated).
    func convert(_ image: DecodedImage) -> DecodedImage {
        guard image.channels != channels else { return image }
        let count = image.width * image.height, p = image.pixels
        let pixels: [UInt8]
        if channels == 1 {
            pixels = (0..<count).map { i in
                let (r, g, b) = (UInt32(p[3 * i]), UInt32(p[3 * i + 1]), UInt32(p[3 * i + 2]))
                return UInt8((r * 19_595 + g * 38_470 + b * 7_471 + 0x8000) >> 16)
            }
        } else {
            pixels = p.flatMap { [$0, $0, $0] }
        }
        return DecodedImage(width: image.width, height: image.height, channels: channels, pixels: pixels)
    }

    /// PIL's `Image.resize(..., BILINEAR)`: a triangle filter widened by the scale when shrinking
    /// (antialiasing), weights in 22-bit fixed point, the horizontal pass first and rounded to bytes.
    static func resize(_ image: DecodedImage, toWidth width: Int, height: Int) -> DecodedImage {
        var current = image
        if width != current.width {
            let taps = ResampleTaps(from: current.width, to: width)
            current = current.resampled(width: width, height: current.height) { pixel, y, x, c in
                taps.apply(x) { pixel(y, $0, c) }
            }
        }
        if height != current.height {
            let taps = ResampleTaps(from: current.height, to: height)
            current = current.resampled(width: current.width, height: height) { pixel, y, x, c in
                taps.apply(y) { pixel($0, x, c) }
            }
        }
        return current
    }
}

extension DecodedImage {
    /// A new image of the given size whose every byte `value(read, y, x, channel)` computes from this one's.
    func resampled(
        width newWidth: Int, height newHeight: Int,
        _ value: ((Int, Int, Int) -> Int64, Int, Int, Int) -> UInt8
    ) -> DecodedImage {
        let read: (Int, Int, Int) -> Int64 = { y, x, c in Int64(pixels[(y * width + x) * channels + c]) }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        for y in 0..<newHeight {
            for x in 0..<newWidth {
                for c in 0..<channels { out[(y * newWidth + x) * channels + c] = value(read, y, x, c) }
            }
        }
        return DecodedImage(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }
}

/// For each output coordinate, the first input coordinate and the fixed-point weights of PIL's bilinear
/// resampling (`precompute_coeffs` and `normalize_coeffs_8bpc` in Pillow's Resample.c).
struct ResampleTaps {
    static let precision = 22
    let first: [Int]
    let weights: [[Int64]]

    init(from input: Int, to output: Int) {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filterScale  // the triangle's support, 1, widened
        var first = [Int](), weights = [[Int64]]()
        for o in 0..<output {
            let center = (Double(o) + 0.5) * scale
            let low = max(Int(center - support + 0.5), 0)
            let high = min(Int(center + support + 0.5), input)
            var k = (low..<high).map { x in max(0, 1 - abs((Double(x) - center + 0.5) / filterScale)) }
            let total = k.reduce(0, +)
            if total != 0 { k = k.map { $0 / total } }
            first.append(low)
            weights.append(
                k.map { w in
                    Int64(w < 0 ? -0.5 + w * Double(1 << Self.precision) : 0.5 + w * Double(1 << Self.precision))
                })
        }
        (self.first, self.weights) = (first, weights)
    }

    /// The resampled byte at output coordinate `o`, reading input coordinates through `value`.
    @inline(__always) func apply(_ o: Int, _ value: (Int) -> Int64) -> UInt8 {
        var total: Int64 = 1 << (Self.precision - 1)
        for (i, w) in weights[o].enumerated() { total += value(first[o] + i) * w }
        return UInt8(clamping: total >> Self.precision)
    }
}
