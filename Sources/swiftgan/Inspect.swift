import ArgumentParser
import Foundation
import GAN

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a checkpoint (.safetensors), a TensorBoard event file or an image folder holds.")

    @Argument(help: "A .safetensors checkpoint, an events.out.tfevents.* file or a folder of images.") var file: String

    func run() throws {
        let url = URL(fileURLWithPath: file)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            return try inspectFolder(url)
        }
        if url.lastPathComponent.contains("tfevents") {
            let (version, values) = try EventFileReader.read(url)
            print("\(url.path): TensorBoard events (\(version ?? "no version record")), \(values.count) values")
            let tags = Dictionary(grouping: values, by: \.tag)
            for tag in tags.keys.sorted() {
                let entries = tags[tag]!.sorted { $0.step < $1.step }
                let last = entries.last!
                let detail = last.scalar.map { "last \($0)" } ?? last.imageSize.map { "image \($0.0)x\($0.1)" } ?? ""
                print(
                    "  \(tag.padding(toLength: 36, withPad: " ", startingAt: 0)) \(entries.count) values, steps \(entries.first!.step)...\(last.step), \(detail)"
                )
            }
            return
        }
        let contents = try SafeTensors.read(url)
        print("\(url.path): safetensors, \(contents.tensors.count) tensors")
        for key in ["format", "format_version", "step", "epoch", "world_size", "architecture"] {
            if let value = contents.metadata[key] { print("  \(key): \(value)") }
        }
        var total = 0
        for name in contents.tensors.names {
            let entry = contents.tensors[name]!
            total += entry.count
            print("  \(name.padding(toLength: 60, withPad: " ", startingAt: 0)) \(entry.dtypeName) \(entry.shape)")
        }
        print("  \(total) values in all")
        if let config = contents.metadata["config"] {
            print("config:")
            print(config.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
    }

    func inspectFolder(_ url: URL) throws {
        let folder = try ImageFolder(scanning: url)
        let summary = folder.summarize()
        print("\(url.path): image folder, \(folder.files.count) image files")
        print("  readable: \(summary.images) (\(summary.grey) greyscale, \(summary.colour) colour)")
        if summary.images > 0 {
            print(
                "  sizes: \(summary.smallest.width)x\(summary.smallest.height) to "
                    + "\(summary.largest.width)x\(summary.largest.height) (width x height)")
        }
        if folder.classes.isEmpty {
            print("  classes: none (images outside class subfolders: an unlabelled set)")
        } else {
            print("  classes: \(folder.classes.count) (labels in this order)")
            for (label, entry) in summary.perClass.enumerated() { print("    \(label) \(entry.name): \(entry.count)") }
        }
        if folder.otherFiles > 0 { print("  other files, left out: \(folder.otherFiles)") }
        if !summary.unreadable.isEmpty {
            print("  unreadable: \(summary.unreadable.count), skipped in training (data.strict: true refuses them)")
            for path in summary.unreadable.prefix(10) { print("    \(path)") }
        }
    }
}
