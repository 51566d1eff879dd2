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
        /// `format` names what the file should have been: IDX, .npy, TensorBoard event.
        case invalid(path: String, reason: String, format: String = "IDX")

        public var description: String {
            switch self {
            case let .unreadable(path, reason): "cannot read \(path): \(reason)"
            case let .invalid(path, reason, format): "\(path) is not a valid \(format) file: \(reason)"
            }
        }
    }

    public static func read(_ url: URL) throws -> IDXFile {
        let raw: Data
        do { raw = try Data(contentsOf: url) } catch {
            throw ReadError.unreadable(path: url.path, reason: FileProblem.reason(error))
        }
        var bytes = raw
        if Gzip.isCompressed(raw) {
            // No more than the header says the file holds (once the header has arrived).
            switch Gzip.decompress(raw, limit: { (try? Header($0))?.fileSize ?? .max }) {
            case let .complete(inflated): bytes = inflated
            case .damaged: throw ReadError.invalid(path: url.path, reason: "the gzip stream is damaged or truncated")
            case let .tooLong(limit):
                throw ReadError.invalid(
                    path: url.path, reason: "it inflates to more than the \(limit) bytes its header describes")
            }
        }
        return try parse(bytes, path: url.path)
    }

    /// An IDX header: unsigned bytes, 1 to 4 dimensions, each at least 1, whose product fits in memory.
    struct Header {
        let dimensions: [Int]
        /// Values the dimensions describe.
        let count: Int
        /// Bytes of the header.
        var size: Int { 4 + 4 * dimensions.count }
        /// Bytes of the whole file.
        var fileSize: Int { size + count }

        /// Reads the header at the start of `data`; throws a reason when it is not one.
        init(_ data: Data) throws {
            let bytes = [UInt8](data.prefix(20))
            guard bytes.count >= 4 else { throw Reason("\(bytes.count) bytes is too short for a header") }
            guard bytes[0] == 0, bytes[1] == 0 else {
                throw Reason("magic number starts \(IDXFile.hex(bytes[0])) \(IDXFile.hex(bytes[1])), not 00 00")
            }
            guard bytes[2] == 0x08 else {
                throw Reason("value type \(IDXFile.hex(bytes[2])) is not unsigned bytes (08)")
            }
            let rank = Int(bytes[3])
            guard (1...4).contains(rank), bytes.count >= 4 + 4 * rank else {
                throw Reason("header for \(rank) dimensions is truncated or impossible")
            }
            dimensions = (0..<rank).map { d in (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) } }
            guard !dimensions.contains(0) else { throw Reason("dimensions \(dimensions) hold no values") }
            guard let product = byteCount(of: dimensions, width: 1), product <= 1 << 40 else {
                throw Reason("dimensions \(dimensions) are too large to be real")
            }
            count = product
        }

        struct Reason: Error {
            let text: String
            init(_ text: String) { self.text = text }
        }
    }

    public static func parse(_ data: Data, path: String) throws -> IDXFile {
        let header: Header
        do { header = try Header(data) } catch let reason as Header.Reason {
            throw ReadError.invalid(path: path, reason: reason.text)
        }
        let bytes = [UInt8](data)
        let (rank, dimensions, expected) = (header.dimensions.count, header.dimensions, header.count)
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

    fileprivate static func hex(_ byte: UInt8) -> String { String(format: "%02x", byte) }
}
