import Foundation

/// `.npy` files (NumPy's format, version 1.0): the magic string, a header dict, raw little-endian values.
public enum NumpyFile {
    public enum Values: Equatable {
        case float32([Float])
        case int64([Int64])
    }

    public static func encode(_ values: Values, shape: [Int]) -> Data {
        let descr: String
        var body = Data()
        switch values {
        case let .float32(v):
            descr = "<f4"
            v.withUnsafeBytes { body.append(contentsOf: $0) }
        case let .int64(v):
            descr = "<i8"
            v.withUnsafeBytes { body.append(contentsOf: $0) }
        }
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + newline is a multiple of 64.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        return data + Data(header.utf8) + body
    }

    public static func write(_ values: Values, shape: [Int], to url: URL) throws {
        try encode(values, shape: shape).write(to: url, options: .atomic)
    }

    /// Reads a little-endian float32 array, C order.
    public static func readFloats(_ url: URL) throws -> (values: [Float], shape: [Int]) {
        let (body, shape) = try read(url, type: "<f4", width: 4)
        return (body.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }, shape)
    }

    /// Reads a little-endian int64 vector (labels).
    public static func readIntegers(_ url: URL) throws -> [Int] {
        let (body, _) = try read(url, type: "<i8", width: 8)
        return body.withUnsafeBytes { $0.bindMemory(to: Int64.self).map(Int.init) }
    }

    private static func read(_ url: URL, type: String, width: Int) throws -> (body: Data, shape: [Int]) {
        func invalid(_ reason: String) -> Error {
            IDXFile.ReadError.invalid(path: url.path, reason: reason, format: ".npy")
        }
        let data = try Data(contentsOf: url)
        guard data.count >= 10, data.prefix(6) == Data([0x93]) + Data("NUMPY".utf8) else {
            throw invalid("not a .npy file")
        }
        let major = data[data.startIndex + 6]
        guard (1...3).contains(major), major == 1 || data.count >= 12 else {
            throw invalid("not a .npy file (version \(major))")
        }
        let headerLength =
            major == 1
            ? Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
            : Int(data.subdata(in: 8..<12).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self).littleEndian })
        let headerStart = major == 1 ? 10 : 12
        guard data.count >= headerStart + headerLength,
            let header = String(data: data.subdata(in: headerStart..<(headerStart + headerLength)), encoding: .ascii)
        else {
            throw invalid("the header is truncated")
        }
        guard header.contains("'\(type)'") else {
            throw invalid("expected '\(type)' values; header \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard !header.contains("'fortran_order': True") else { throw invalid("Fortran order is not supported") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")")
        else { throw invalid("no shape in the header") }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let body = data.subdata(in: (headerStart + headerLength)..<data.count)
        guard let bytes = byteCount(of: shape, width: width) else { throw invalid("shape \(shape) is impossible") }
        guard body.count == bytes else { throw invalid("shape \(shape) needs \(bytes) bytes, found \(body.count)") }
        return (body, shape)
    }
}
