import Foundation

/// Reads TensorBoard event files (as `TensorBoardWriter` and TensorFlow write them), checking both CRCs of
/// every record: for `swiftgan inspect` and the tests.
public enum EventFileReader {
    public struct Value: Equatable {
        public var step: Int
        public var tag: String
        /// The scalar, for scalar summaries.
        public var scalar: Float?
        /// Width and height, for image summaries.
        public var imageSize: (Int, Int)?

        public static func == (a: Value, b: Value) -> Bool {
            a.step == b.step && a.tag == b.tag && a.scalar == b.scalar && a.imageSize?.0 == b.imageSize?.0
                && a.imageSize?.1 == b.imageSize?.1
        }
    }

    public static func read(_ url: URL) throws -> (fileVersion: String?, values: [Value]) {
        let data = try Data(contentsOf: url)
        func corrupt(_ reason: String) -> Error {
            IDXFile.ReadError.invalid(path: url.path, reason: reason, format: "TensorBoard event")
        }
        var offset = 0
        var version: String?
        var values: [Value] = []
        while offset < data.count {
            guard offset + 12 <= data.count else { throw corrupt("a record header is truncated at byte \(offset)") }
            let lengthBytes = data.subdata(in: offset..<(offset + 8))
            let declared = lengthBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
            // Compared before any arithmetic: a damaged length can be near 2⁶⁴.
            guard declared <= UInt64(data.count) else { throw corrupt("a record is truncated at byte \(offset)") }
            let length = Int(declared)
            let lengthCRC = data.subdata(in: (offset + 8)..<(offset + 12)).withUnsafeBytes {
                $0.loadUnaligned(as: UInt32.self).littleEndian
            }
            guard lengthCRC == CRC32C.masked(lengthBytes) else {
                throw corrupt("bad length checksum at byte \(offset)")
            }
            guard offset + 16 + length <= data.count else { throw corrupt("a record is truncated at byte \(offset)") }
            let payload = data.subdata(in: (offset + 12)..<(offset + 12 + length))
            let payloadCRC = data.subdata(in: (offset + 12 + length)..<(offset + 16 + length)).withUnsafeBytes {
                $0.loadUnaligned(as: UInt32.self).littleEndian
            }
            guard payloadCRC == CRC32C.masked(payload) else { throw corrupt("bad data checksum at byte \(offset)") }
            offset += 16 + length

            var step = 0
            for field in try ProtoReader.fields(payload) {
                switch (field.number, field.value) {
                case let (2, .varint(v)): step = Int(truncatingIfNeeded: Int64(bitPattern: v))
                case let (3, .bytes(b)): version = String(decoding: b, as: UTF8.self)
                case let (5, .bytes(summary)):
                    for entry in try ProtoReader.fields(summary) where entry.number == 1 {
                        guard case let .bytes(valueData) = entry.value else { continue }
                        var value = Value(step: step, tag: "")
                        for part in try ProtoReader.fields(valueData) {
                            switch (part.number, part.value) {
                            case let (1, .bytes(b)): value.tag = String(decoding: b, as: UTF8.self)
                            case let (2, .fixed32(bits)): value.scalar = Float(bitPattern: bits)
                            case let (4, .bytes(image)):
                                var size = (0, 0)
                                for p in try ProtoReader.fields(image) {
                                    if case let .varint(v) = p.value, p.number == 1 { size.1 = Int(clamping: v) }
                                    if case let .varint(v) = p.value, p.number == 2 { size.0 = Int(clamping: v) }
                                }
                                value.imageSize = size
                            default: break
                            }
                        }
                        values.append(value)
                    }
                default: break
                }
            }
        }
        return (version, values)
    }
}

/// Just enough protocol-buffer decoding for Event messages.
enum ProtoReader {
    enum FieldValue {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(Data)
    }

    struct DecodeError: Error {}

    static func fields(_ data: Data) throws -> [(number: Int, value: FieldValue)] {
        let bytes = [UInt8](data)
        var i = 0
        func varint() throws -> UInt64 {
            var result: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < bytes.count, shift < 64 else { throw DecodeError() }
                let b = bytes[i]
                i += 1
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
        }
        var result: [(Int, FieldValue)] = []
        while i < bytes.count {
            let key = try varint()
            let number = Int(clamping: key >> 3)
            switch key & 7 {
            case 0: result.append((number, .varint(try varint())))
            case 1:
                guard i + 8 <= bytes.count else { throw DecodeError() }
                result.append(
                    (
                        number,
                        .fixed64(
                            bytes[i..<(i + 8)].enumerated().reduce(0) {
                                $0 | UInt64($1.element) << (8 * UInt64($1.offset))
                            })
                    ))
                i += 8
            case 2:
                let declared = try varint()
                guard declared <= UInt64(bytes.count - i) else { throw DecodeError() }
                let length = Int(declared)
                result.append((number, .bytes(Data(bytes[i..<(i + length)]))))
                i += length
            case 5:
                guard i + 4 <= bytes.count else { throw DecodeError() }
                result.append(
                    (
                        number,
                        .fixed32(
                            bytes[i..<(i + 4)].enumerated().reduce(0) {
                                $0 | UInt32($1.element) << (8 * UInt32($1.offset))
                            })
                    ))
                i += 4
            default: throw DecodeError()
            }
        }
        return result
    }
}
