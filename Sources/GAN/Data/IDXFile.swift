import Foundation

/// The IDX format of MNIST and Fashion-MNIST: a magic number (two zero bytes, a type byte, the number of
/// dimensions), the big-endian size of each dimension, then the values. Files may be gzipped.
public struct IDXFile {
    /// Sizes of the dimensions: [count, rows, columns] for images, [count] for labels.
    public let dimensions: [Int]
    /// The unsigned bytes, row-major.
    public let values: [UInt8]

    public enum ReadError: Error, CustomStringConvertible, Equatable {
        case unreadable(path: String, reason: String)
        case invalid(path: String, reason: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): "cannot read \(path): \(reason)"
            case let .invalid(path, reason): "\(path) is not a valid IDX file: \(reason)"
            }
        }
    }

    public static func read(_ url: URL) throws -> IDXFile {
        let raw: Data
        do { raw = try Data(contentsOf: url) } catch {
            throw ReadError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        var bytes = raw
        if Gzip.isCompressed(raw) {
            guard let inflated = Gzip.decompress(raw) else {
                throw ReadError.invalid(path: url.path, reason: "the gzip stream is damaged or truncated")
            }
            bytes = inflated
        }
        return try parse(bytes, path: url.path)
    }

    public static func parse(_ data: Data, path: String) throws -> IDXFile {
        let bytes = [UInt8](data)
        guard bytes.count >= 4 else {
            throw ReadError.invalid(path: path, reason: "\(bytes.count) bytes is too short for a header")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw ReadError.invalid(
                path: path, reason: "magic number starts \(hex(bytes[0])) \(hex(bytes[1])), not 00 00")
        }
        guard bytes[2] == 0x08 else {
            throw ReadError.invalid(path: path, reason: "value type \(hex(bytes[2])) is not unsigned bytes (08)")
        }
        let rank = Int(bytes[3])
        guard (1...4).contains(rank), bytes.count >= 4 + 4 * rank else {
            throw ReadError.invalid(path: path, reason: "header for \(rank) dimensions is truncated or impossible")
        }
        let dimensions = (0..<rank).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) }
        }
        let expected = dimensions.reduce(1, *)
        let available = bytes.count - 4 - 4 * rank
        guard available == expected else {
            throw ReadError.invalid(
                path: path,
                reason:
                    "dimensions \(dimensions) need \(expected) values, the file has \(available)\(available < expected ? " (truncated?)" : "")"
            )
        }
        return IDXFile(dimensions: dimensions, values: Array(bytes[(4 + 4 * rank)...]))
    }

    private static func hex(_ byte: UInt8) -> String { String(format: "%02x", byte) }
}
