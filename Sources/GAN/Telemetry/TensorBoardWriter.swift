import Foundation

/// Writes TensorBoard event files: TFRecord framing (length, masked CRC-32C of the length, payload, masked
/// CRC-32C of the payload) around `Event` protocol buffers, encoded here field by field.
public final class TensorBoardWriter {
    public let url: URL
    private let handle: FileHandle

    /// Creates `events.out.tfevents.<time>.<host>` in `directory` and writes the file-version event.
    public init(directory: URL) throws {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        url = directory.appendingPathComponent("events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
        var event = ProtoWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.string(3, "brain.Event:2")
        try write(event.data)
    }

    deinit { try? handle.close() }

    /// One scalar per tag at `step` (TensorBoard's Scalars tab).
    public func scalars(_ values: [(tag: String, value: Float)], step: Int) throws {
        var summary = ProtoWriter()
        for (tag, value) in values where value.isFinite {
            var entry = ProtoWriter()
            entry.string(1, tag)
            entry.float(2, value)
            summary.message(1, entry)
        }
        try event(summary: summary, step: step)
    }

    /// A PNG image under `tag` at `step` (TensorBoard's Images tab).
    public func image(_ tag: String, png: Data, width: Int, height: Int, channels: Int = 1, step: Int) throws {
        var image = ProtoWriter()
        image.varint(1, UInt64(height))
        image.varint(2, UInt64(width))
        image.varint(3, UInt64(channels))  // colour space: 1 greyscale, 3 RGB
        image.bytes(4, png)
        var entry = ProtoWriter()
        entry.string(1, tag)
        entry.message(4, image)
        var summary = ProtoWriter()
        summary.message(1, entry)
        try event(summary: summary, step: step)
    }

    public func flush() throws { try handle.synchronize() }

    private func event(summary: ProtoWriter, step: Int) throws {
        var event = ProtoWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.message(5, summary)
        try write(event.data)
    }

    private func write(_ payload: Data) throws {
        var record = Data()
        withUnsafeBytes(of: UInt64(payload.count).littleEndian) { record.append(contentsOf: $0) }
        let lengthBytes = record
        withUnsafeBytes(of: CRC32C.masked(lengthBytes).littleEndian) { record.append(contentsOf: $0) }
        record.append(payload)
        withUnsafeBytes(of: CRC32C.masked(payload).littleEndian) { record.append(contentsOf: $0) }
        try handle.write(contentsOf: record)
    }
}

/// The protocol-buffer wire format, as much of it as Event needs.
struct ProtoWriter {
    private(set) var data = Data()

    private mutating func key(_ field: Int, _ wireType: UInt64) { rawVarint(UInt64(field) << 3 | wireType) }

    private mutating func rawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            data.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        data.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ value: UInt64) {
        key(field, 0)
        rawVarint(value)
    }
    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
    mutating func bytes(_ field: Int, _ value: Data) {
        key(field, 2)
        rawVarint(UInt64(value.count))
        data.append(value)
    }
    mutating func string(_ field: Int, _ value: String) { bytes(field, Data(value.utf8)) }
    mutating func message(_ field: Int, _ value: ProtoWriter) { bytes(field, value.data) }
}

/// CRC-32C (Castagnoli), as TFRecord uses it, with TensorFlow's masking.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// Rotated right by 15 and offset, so that a CRC over data that itself holds CRCs stays strong.
    static func masked(_ data: Data) -> UInt32 {
        let crc = checksum(data)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
