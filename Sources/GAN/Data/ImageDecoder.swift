import CImageCodecs
import Foundation

/// One image file decoded to bytes: `height` rows of `width` pixels of `channels` values (1 grey, 3 RGB).
struct DecodedImage {
    let width: Int, height: Int, channels: Int
    /// `(H, W, C)` bytes.
    let pixels: [UInt8]
}

/// PNG and JPEG decoding through libpng and libjpeg-turbo (`Sources/CImageCodecs`), chosen by the file's
/// first bytes rather than its name.
enum ImageDecoder {
    /// The name endings an image folder reads.
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    struct Failure: Error, CustomStringConvertible {
        let path: String, reason: String
        var description: String { "\(path): \(reason)" }
    }

    static func decode(_ url: URL) throws -> DecodedImage {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw Failure(path: url.path, reason: "cannot be read")
        }
        return try decode(data, path: url.path)
    }

    static func decode(_ data: Data, path: String) throws -> DecodedImage {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47], jpeg: [UInt8] = [0xFF, 0xD8, 0xFF]
        let decoder:
            (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<sg_image>?, UnsafeMutablePointer<CChar>?, Int)
                -> Int32
        if data.starts(with: png) {
            decoder = sg_decode_png
        } else if data.starts(with: jpeg) {
            decoder = sg_decode_jpeg
        } else {
            throw Failure(path: path, reason: data.isEmpty ? "empty file" : "not a PNG or JPEG image")
        }
        var image = sg_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = data.withUnsafeBytes { bytes in
            decoder(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &image, &message, message.count)
        }
        guard status == 0, let pixels = image.pixels else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw Failure(path: path, reason: "not a readable image (\(reason))")
        }
        defer { sg_image_free(&image) }
        let (width, height, channels) = (Int(image.width), Int(image.height), Int(image.channels))
        guard width > 0, height > 0 else { throw Failure(path: path, reason: "an image of 0 pixels") }
        return DecodedImage(
            width: width, height: height, channels: channels,
            pixels: Array(UnsafeBufferPointer(start: pixels, count: width * height * channels)))
    }
}
