import Distributed
import Foundation

/// A folder of PNG and JPEG images, read as torchvision's `ImageFolder` reads one: searched recursively;
/// when every image lies in a subfolder of the top folder, those subfolders are the classes (sorted names →
/// labels 0..K−1); otherwise the set is unlabelled. Files that are not images by name are left out.
public struct ImageFolder {
    public struct File: Equatable {
        /// Path relative to the folder.
        public let path: String
        public let byteCount: Int
        public let modified: Double
        public let label: Int
    }

    public let root: URL
    /// Sorted by class, then path.
    public let files: [File]
    /// Class folder names; empty for an unlabelled set.
    public let classes: [String]
    /// Files left out because their names are not .png, .jpg or .jpeg.
    public let otherFiles: Int

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(scanning root: URL) throws {
        self.root = root
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(description: "\(root.path): no such folder")
        }
        guard let walker = manager.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw Failure(description: "\(root.path): cannot be read")
        }
        var images: [(path: String, size: Int, modified: Double)] = [], others = 0
        let prefix = root.standardizedFileURL.path + "/"
        for case let url as URL in walker {
            let name = url.lastPathComponent
            if name.hasPrefix(".") {
                walker.skipDescendants()  // hidden files and folders, such as a cache
                continue
            }
            guard let attributes = try? manager.attributesOfItem(atPath: url.path),
                attributes[.type] as? FileAttributeType == .typeRegular
            else { continue }
            guard ImageDecoder.extensions.contains(url.pathExtension.lowercased()) else {
                others += 1
                continue
            }
            let path = url.standardizedFileURL.path
            images.append(
                (
                    path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : name,
                    (attributes[.size] as? NSNumber)?.intValue ?? 0,
                    (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                ))
        }
        guard !images.isEmpty else {
            throw Failure(
                description: "\(root.path) holds no images (.png, .jpg, .jpeg)"
                    + (others > 0 ? "; it holds \(others) other files" : ""))
        }
        // Classes: the top-level folders, when no image lies directly in the top folder.
        let labelled = images.allSatisfy { $0.path.contains("/") }
        let classNames =
            labelled ? Set(images.map { String($0.path.prefix { $0 != "/" }) }).sorted() : []
        if labelled {
            // A class folder with no images is torchvision's error too: its label would never occur.
            let folders = (try? manager.contentsOfDirectory(atPath: root.path)) ?? []
            for folder in folders.sorted() where !folder.hasPrefix(".") && !classNames.contains(folder) {
                var isFolder: ObjCBool = false
                if manager.fileExists(atPath: root.appendingPathComponent(folder).path, isDirectory: &isFolder),
                    isFolder.boolValue
                {
                    throw Failure(
                        description: "class folder \(root.appendingPathComponent(folder).path) holds no images")
                }
            }
        }
        let label = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
        files = images.map { image in
            File(
                path: image.path, byteCount: image.size, modified: image.modified,
                label: labelled ? label[String(image.path.prefix { $0 != "/" })]! : 0)
        }.sorted { ($0.label, $0.path) < ($1.label, $1.path) }
        classes = classNames
        otherFiles = others
    }

    /// Identifies the folder's contents and a preprocessing: file names, sizes and modification times, the
    /// image side and the channels (FNV-1a, 64 bits, as hex).
    func fingerprint(_ transform: ImageTransform) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 + [0] {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        mix("swiftgan-image-cache-1 \(transform.size) \(transform.channels) \(root.standardizedFileURL.path)")
        for file in files { mix("\(file.path) \(file.byteCount) \(file.modified) \(file.label)") }
        return String(hash, radix: 16)
    }
}

extension ImageFolder {
    /// What `swiftgan inspect DIR` shows: every image decoded once for its size and channels.
    public struct Summary {
        public var images = 0, unreadable: [String] = [], grey = 0, colour = 0
        public var smallest = (width: Int.max, height: Int.max), largest = (width: 0, height: 0)
        public var perClass: [(name: String, count: Int)] = []
    }

    public func summarize() -> Summary {
        var summary = Summary()
        for file in files {
            let url = root.appendingPathComponent(file.path)
            guard let image = try? ImageDecoder.decode(url) else {
                summary.unreadable.append(url.path)
                continue
            }
            summary.images += 1
            if image.channels == 1 { summary.grey += 1 } else { summary.colour += 1 }
            summary.smallest = (min(summary.smallest.width, image.width), min(summary.smallest.height, image.height))
            summary.largest = (max(summary.largest.width, image.width), max(summary.largest.height, image.height))
        }
        summary.perClass = classes.enumerated().map { label, name in (name, files.count { $0.label == label }) }
        return summary
    }
}
