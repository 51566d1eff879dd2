import Foundation

/// The safetensors file format: an 8-byte little-endian header length, a JSON header mapping each name to
/// dtype, shape and byte range, then the raw little-endian data. Hugging Face's and PyTorch's tools read it.
public enum SafeTensors {
    public struct File {
        public var tensors: StateDict
        /// The header's `__metadata__`: string keys to string values.
        public var metadata: [String: String]

        public init(tensors: StateDict, metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    public enum FormatError: Error, CustomStringConvertible, Equatable {
        case unreadable(path: String, reason: String)
        case corrupt(path: String, reason: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): "cannot read \(path): \(reason)"
            case let .corrupt(path, reason): "\(path) is not a valid safetensors file: \(reason)"
            }
        }
    }

    // MARK: - Encoding

    /// The file's bytes: header padded with spaces to 8 bytes, tensors in `tensors.names` order.
    public static func encode(_ file: File) throws -> Data {
        var header: [String: Any] = [:]
        var body = Data()
        for name in file.tensors.names {
            let entry = file.tensors[name]!
            let start = body.count
            let dtype: String
            switch entry.values {
            case let .float32(v):
                dtype = "F32"
                v.withUnsafeBytes { body.append(contentsOf: $0) }
            case let .int64(v):
                dtype = "I64"
                v.withUnsafeBytes { body.append(contentsOf: $0) }
            }
            header[name] = ["dtype": dtype, "shape": entry.shape, "data_offsets": [start, body.count]]
        }
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var result = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { result.append(contentsOf: $0) }
        result.append(json)
        result.append(body)
        return result
    }

    /// Writes atomically: a temporary file beside `url`, flushed to disk, then renamed over it, so a crash
    /// never leaves a half-written file under the final name.
    public static func write(_ file: File, to url: URL) throws {
        let data = try encode(file)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw FormatError.unreadable(path: temporary.path, reason: "cannot create the file")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else {
                throw FormatError.unreadable(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    // MARK: - Decoding

    public static func read(_ url: URL) throws -> File {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FormatError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try decode(data, path: url.path)
    }

    /// Parses and checks a whole file: header bounds, every tensor's dtype, shape and byte range, and that
    /// the ranges tile the data exactly (as the reference implementation requires).
    public static func decode(_ data: Data, path: String = "<memory>") throws -> File {
        func corrupt(_ reason: String) -> FormatError { .corrupt(path: path, reason: reason) }
        guard data.count >= 8 else { throw corrupt("\(data.count) bytes is shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        guard headerLength <= UInt64(data.count - 8) else {
            throw corrupt("header length \(headerLength) runs past the end of the \(data.count)-byte file (truncated?)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw corrupt("the header is not a JSON object")
        }
        let body = data.subdata(in: (8 + Int(headerLength))..<data.count)
        var metadata: [String: String] = [:]
        var ranges: [(name: String, range: Range<Int>)] = []
        var entries: [(name: String, shape: [Int], dtype: String, range: Range<Int>)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let values = value as? [String: String] else {
                    throw corrupt("__metadata__ must map strings to strings")
                }
                metadata = values
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw corrupt("tensor \"\(name)\" lacks dtype, shape or data_offsets") }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "I64": width = 8
            default: throw corrupt("tensor \"\(name)\" has dtype \(dtype); SwiftGAN reads F32 and I64")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= body.count
            else {
                throw corrupt(
                    "tensor \"\(name)\" has byte range \(offsets) outside the \(body.count) data bytes (truncated?)")
            }
            guard let bytes = byteCount(of: shape, width: width), offsets[1] - offsets[0] == bytes else {
                throw corrupt("tensor \"\(name)\" of shape \(shape) and dtype \(dtype) does not fill bytes \(offsets)")
            }
            ranges.append((name, offsets[0]..<offsets[1]))
            entries.append((name, shape, dtype, offsets[0]..<offsets[1]))
        }
        ranges.sort { $0.range.lowerBound < $1.range.lowerBound }
        var end = 0
        for (name, range) in ranges {
            guard range.lowerBound == end else { throw corrupt("tensor \"\(name)\" overlaps another or leaves a gap") }
            end = range.upperBound
        }
        guard end == body.count else { throw corrupt("\(body.count - end) bytes after the last tensor") }

        var tensors = StateDict()
        for entry in entries.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            let bytes = body.subdata(in: entry.range)
            switch entry.dtype {
            case "F32":
                tensors[entry.name] = StateTensor(
                    shape: entry.shape,
                    values: .float32(
                        bytes.withUnsafeBytes {
                            Array($0.bindMemory(to: Float.self))
                        }))
            default:
                tensors[entry.name] = StateTensor(
                    shape: entry.shape,
                    values: .int64(
                        bytes.withUnsafeBytes {
                            Array($0.bindMemory(to: Int64.self))
                        }))
            }
        }
        return File(tensors: tensors, metadata: metadata)
    }
}
