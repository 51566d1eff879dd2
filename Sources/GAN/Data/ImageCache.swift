import Distributed
import Foundation

/// The decoded images of an image folder in one file, so that only the first run decodes: a 64-byte header
/// (magic, count, channels, side), one status byte per image (1 decoded, 0 unreadable), the labels as
/// little-endian Int32, then the images' `(C, side, side)` bytes from a 64-byte boundary. The file is named by
/// the folder's fingerprint (names, sizes, modification times, preprocessing), so a changed folder or setting
/// makes a new one, and it is memory-mapped: training reads it at memory speed, and memory use does not grow
/// with the folder.
///
/// Building it is shared by the ranks: each decodes a contiguous share of the files into the one file, which
/// must be on storage every rank sees (the default is per user on this machine; set `data.cache` on
/// several nodes).
enum ImageCache {
    static let magic = Array("SWIFTGAN-IMAGES1".utf8)

    struct Layout {
        let count: Int, channels: Int, side: Int
        var imageBytes: Int { channels * side * side }
        var statusOffset: Int { 64 }
        var labelOffset: Int { 64 + count }
        var pixelOffset: Int { (labelOffset + 4 * count + 63) / 64 * 64 }
        var fileSize: Int { pixelOffset + count * imageBytes }
    }

    /// The default folder: `$SWIFTGAN_CACHE`, else `$XDG_CACHE_HOME/swiftgan/images`, else `~/.cache/swiftgan/images`.
    static func directory(_ setting: String) -> URL {
        let environment = ProcessInfo.processInfo.environment
        if !setting.isEmpty { return URL(fileURLWithPath: setting) }
        if let path = environment["SWIFTGAN_CACHE"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let base =
            environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("swiftgan/images")
    }

    /// The folder's images as a dataset, decoding them into the cache first unless an earlier run did.
    /// Unreadable images are skipped with a warning each (the first ten per rank) and counted in the returned
    /// notices, or are an error when `strict`.
    static func load(
        _ folder: ImageFolder, transform: ImageTransform, in directory: URL, strict: Bool,
        communicator: Communicator
    ) throws -> (dataset: ImageDataset, notices: [String]) {
        let layout = Layout(count: folder.files.count, channels: transform.channels, side: transform.size)
        let file = directory.appendingPathComponent("\(folder.fingerprint(transform)).images")
        var notices: [String] = []
        let ready = try communicator.broadcast(communicator.isRoot && isComplete(file, layout) ? 1 : 0)
        if ready == 0 {
            let seconds = try build(
                file, folder: folder, transform: transform, layout: layout, communicator: communicator)
            notices.append(
                "decoded \(layout.count) images of \(folder.root.path) in \(String(format: "%.1f", seconds)) s "
                    + "into \(file.path)")
        }
        guard let data = try? Data(contentsOf: file, options: .alwaysMapped), data.count == layout.fileSize else {
            throw ImageFolder.Failure(
                description: "the image cache \(file.path) is not readable on rank \(communicator.rank): "
                    + "on several nodes, set data.cache to a folder every node sees")
        }
        let statuses = [UInt8](data[layout.statusOffset..<(layout.statusOffset + layout.count)])
        let slots = statuses.indices.filter { statuses[$0] == 1 }
        let skipped = layout.count - slots.count
        if skipped > 0 {
            let first = folder.root.appendingPathComponent(folder.files[statuses.firstIndex(of: 0)!].path).path
            guard !strict else {
                throw ImageFolder.Failure(
                    description: "\(skipped) of \(layout.count) images cannot be read, the first \(first) "
                        + "(data.strict: true; false skips them)")
            }
            guard !slots.isEmpty else {
                throw ImageFolder.Failure(
                    description: "none of the \(layout.count) images of \(folder.root.path) can be read")
            }
            notices.append("skipped \(skipped) unreadable of \(layout.count) images (the first \(first))")
        }
        let labels = slots.map { folder.files[$0].label }
        let source =
            "\(folder.root.path) (" + (folder.classes.isEmpty ? "unlabelled)" : "\(folder.classes.count) classes)")
        let dataset = ImageDataset(
            pixels: data, offset: layout.pixelOffset, slots: skipped > 0 ? slots : nil, labels: labels,
            imageSize: layout.side, channels: layout.channels, source: source)
        return (dataset, notices)
    }

    static func isComplete(_ file: URL, _ layout: Layout) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return false }
        defer { try? handle.close() }
        guard let header = try? handle.read(upToCount: 40), header.count == 40,
            Array(header.prefix(16)) == magic,
            (try? handle.seekToEnd()).map({ Int($0) }) == layout.fileSize
        else { return false }
        func field(_ i: Int) -> Int {
            Int(header[(16 + 8 * i)..<(24 + 8 * i)].withUnsafeBytes { $0.loadUnaligned(as: Int64.self) })
        }
        return field(0) == layout.count && field(1) == layout.channels && field(2) == layout.side
    }

    /// Decodes every rank's share into `file` (through a partial file that rank 0 renames when all are done)
    /// and returns the seconds it took.
    static func build(
        _ file: URL, folder: ImageFolder, transform: ImageTransform, layout: Layout, communicator: Communicator
    ) throws -> Double {
        let start = Date()
        let partial = file.appendingPathExtension("partial")
        if communicator.isRoot {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let descriptor = open(partial.path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
            guard descriptor >= 0, ftruncate(descriptor, off_t(layout.fileSize)) == 0 else {
                if descriptor >= 0 { close(descriptor) }
                throw ImageFolder.Failure(description: "cannot write the image cache \(partial.path) (set data.cache)")
            }
            var labels = folder.files.map { Int32($0.label).littleEndian }
            _ = pwrite(descriptor, &labels, 4 * labels.count, off_t(layout.labelOffset))
            close(descriptor)
        }
        try communicator.barrier()
        let descriptor = open(partial.path, O_WRONLY)
        guard descriptor >= 0 else {
            throw ImageFolder.Failure(
                description: "the image cache \(partial.path) is not visible on rank \(communicator.rank): "
                    + "on several nodes, set data.cache to a folder every node sees")
        }
        let (first, end) = (
            layout.count * communicator.rank / communicator.size,
            layout.count * (communicator.rank + 1) / communicator.size
        )
        let share = first..<end
        var warned = 0, lastReport = Date()
        for index in share {
            let url = folder.root.appendingPathComponent(folder.files[index].path)
            do {
                var pixels = transform.apply(try ImageDecoder.decode(url))
                var ok: UInt8 = 1
                guard
                    pwrite(descriptor, &pixels, pixels.count, off_t(layout.pixelOffset + index * layout.imageBytes))
                        == pixels.count, pwrite(descriptor, &ok, 1, off_t(layout.statusOffset + index)) == 1
                else {
                    close(descriptor)
                    throw ImageFolder.Failure(description: "cannot write the image cache \(partial.path): disk full?")
                }
            } catch let failure as ImageDecoder.Failure {
                warned += 1
                if warned <= 10 { Console.error("warning: skipping \(failure)\n") }
            }
            if communicator.isRoot, Date().timeIntervalSince(lastReport) > 2 {
                lastReport = Date()
                let done = (index - share.lowerBound + 1) * communicator.size
                Console.error(
                    "decoding \(folder.root.path): about \(min(done, layout.count)) of \(layout.count) images\n")
            }
        }
        if warned > 10 { Console.error("warning: skipping \(warned - 10) more unreadable images\n") }
        close(descriptor)
        try communicator.barrier()
        if communicator.isRoot {
            // The header last: a file without it (a killed run's) is never taken for a complete one.
            var header = [UInt8](repeating: 0, count: 64)
            header.replaceSubrange(0..<16, with: magic)
            for (i, value) in [layout.count, layout.channels, layout.side].enumerated() {
                withUnsafeBytes(of: Int64(value).littleEndian) {
                    header.replaceSubrange((16 + 8 * i)..<(24 + 8 * i), with: $0)
                }
            }
            let descriptor = open(partial.path, O_WRONLY)
            guard descriptor >= 0, pwrite(descriptor, &header, 64, 0) == 64, fsync(descriptor) == 0 else {
                throw ImageFolder.Failure(description: "cannot write the image cache \(partial.path)")
            }
            close(descriptor)
            guard rename(partial.path, file.path) == 0 else {
                throw ImageFolder.Failure(description: "cannot rename \(partial.path) to \(file.path)")
            }
        }
        try communicator.barrier()
        return Date().timeIntervalSince(start)
    }
}
