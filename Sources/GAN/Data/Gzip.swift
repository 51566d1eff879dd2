import CZlib
import Foundation

/// gzip and zlib streams through the system zlib.
enum Gzip {
    /// Whether `data` starts with the gzip magic bytes 1f 8b.
    static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    enum Inflated {
        case complete(Data)
        /// Damaged, or ended early.
        case damaged
        /// The output passed the limit (a bomb, or a header that does not match its data).
        case tooLong(limit: Int)
    }

    /// The decompressed bytes of a gzip stream. `limit` is asked, as output arrives, for the most bytes the
    /// output may hold (given what it holds so far): inflating stops within a chunk (1 MiB) of that, so a
    /// small file that would inflate to gigabytes costs no more memory than what its header promised.
    static func decompress(_ data: Data, limit: (Data) -> Int = { _ in .max }) -> Inflated {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return .damaged
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        var allowed = Int.max
        data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(out.baseAddress!, count: chunk - Int(stream.avail_out))
                }
                allowed = limit(output)
            } while status == Z_OK && output.count <= allowed
        }
        if output.count > allowed { return .tooLong(limit: allowed) }
        return status == Z_STREAM_END ? .complete(output) : .damaged
    }

    /// A zlib (RFC 1950) stream of `data`, as PNG's IDAT chunks hold.
    static func zlibCompress(_ data: Data, level: Int32 = 6) -> Data {
        var length = compressBound(uLong(data.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        data.withUnsafeBytes { input in
            _ = compress2(&output, &length, input.bindMemory(to: Bytef.self).baseAddress, uLong(data.count), level)
        }
        return Data(output.prefix(Int(length)))
    }

    /// CRC-32 (as PNG chunks carry).
    static func crc32(_ data: Data, seed: UInt32 = 0) -> UInt32 {
        data.withUnsafeBytes {
            UInt32(CZlib.crc32(uLong(seed), $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count)))
        }
    }
}
