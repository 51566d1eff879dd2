import Foundation

/// 8-bit greyscale or RGB PNG encoding: signature, IHDR, one zlib IDAT, IEND.
public enum PNG {
    /// - Parameter pixels: `height` rows of `width` pixels of `channels` bytes (1 grey, 3 RGB).
    public static func encode(width: Int, height: Int, channels: Int = 1, pixels: [UInt8]) -> Data {
        precondition(pixels.count == width * height * channels && (channels == 1 || channels == 3))
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        // Bit depth 8, colour type 0 (grey) or 2 (RGB), deflate, no filter, no interlace.
        header.append(contentsOf: [8, channels == 3 ? 2 : 0, 0, 0, 0])
        png.appendChunk("IHDR", header)
        let rowBytes = width * channels
        var scanlines = Data(capacity: (rowBytes + 1) * height)
        for row in 0..<height {
            scanlines.append(0)  // filter type None
            scanlines.append(contentsOf: pixels[(row * rowBytes)..<((row + 1) * rowBytes)])
        }
        png.appendChunk("IDAT", Gzip.zlibCompress(scanlines))
        png.appendChunk("IEND", Data())
        return png
    }
}

/// Sample images laid out as `torchvision.utils.make_grid(normalize=True, padding=2)` lays them out:
/// min-max scaled over the whole set, `columns` per row, 2 black pixels around and between.
public struct ImageGrid {
    public let width: Int
    public let height: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    /// Row-major pixels of `channels` bytes.
    public let pixels: [UInt8]

    /// - Parameter images: `(N, C, H, W)`, C 1 or 3.
    public init(_ images: Tensor, columns: Int, padding: Int = 2) {
        let (count, channels, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let columns = min(columns, count)
        let rows = (count + columns - 1) / columns
        width = columns * (w + padding) + padding
        height = rows * (h + padding) + padding
        let values = images.scalars
        let low = values.min() ?? 0, high = values.max() ?? 1
        let scale = 1 / max(high - low, 1e-5)
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for n in 0..<count {
            let top = (n / columns) * (h + padding) + padding, left = (n % columns) * (w + padding) + padding
            for c in 0..<channels {
                for y in 0..<h {
                    for x in 0..<w {
                        // save_image's conversion: floor(v·255 + 0.5), clamped.
                        let v = (values[((n * channels + c) * h + y) * w + x] - low) * scale * 255 + 0.5
                        pixels[((top + y) * width + left + x) * channels + c] = UInt8(min(max(v, 0), 255))
                    }
                }
            }
        }
        self.channels = channels
        self.pixels = pixels
    }

    public var png: Data { PNG.encode(width: width, height: height, channels: channels, pixels: pixels) }
}

extension Data {
    mutating func appendBigEndian(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendChunk(_ type: String, _ body: Data) {
        appendBigEndian(UInt32(body.count))
        let typed = Data(type.utf8) + body
        append(typed)
        appendBigEndian(Gzip.crc32(typed))
    }
}
