import Foundation
import XCTest

/// What some tests need beyond Swift: the release binary (tests that launch it under mpirun), Python with
/// PyTorch and TensorBoard (the real readers), the full MNIST in ../shared. `Launch/test` provides all of them
/// and sets SWIFTGAN_FULL_TEST=1, under which a missing one fails the test; a plain `swift test` skips such a
/// test and says what it needs.
public enum Prerequisites {
    static var required: Bool { ProcessInfo.processInfo.environment["SWIFTGAN_FULL_TEST"] == "1" }

    struct Missing: Error, CustomStringConvertible { let description: String }

    static func missing(_ what: String) -> Error {
        required
            ? Missing(description: "\(what) (Launch/test should have provided it)")
            : XCTSkip("needs \(what); Launch/test runs it")
    }

    /// The release build of `swiftgan`, no older than the newest source file.
    public static func releaseBinary() throws -> URL {
        let binary = Repository.root.appendingPathComponent(".build/release/swiftgan")
        let files = FileManager.default
        guard let built = (try? files.attributesOfItem(atPath: binary.path))?[.modificationDate] as? Date else {
            throw missing("the release binary .build/release/swiftgan")
        }
        let sources = files.enumerator(
            at: Repository.root.appendingPathComponent("Sources"),
            includingPropertiesForKeys: [.contentModificationDateKey])
        while let file = sources?.nextObject() as? URL {
            if let changed = try file.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate,
                changed > built
            {
                throw missing("a release binary newer than \(file.lastPathComponent) (swift build -c release)")
            }
        }
        return binary
    }

    /// Python 3 with these modules importable.
    public static func python(_ modules: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import " + modules.joined(separator: ", ")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw missing("python3") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw missing("Python with \(modules.joined(separator: ", "))") }
    }

    /// The full MNIST (60,000 training digits) in ../shared/data/mnist.
    public static func fullMNIST() throws -> URL {
        let folder = Repository.fullMNIST
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("train-images-idx3-ubyte.gz").path)
        else {
            throw missing("the full MNIST in \(folder.path)")
        }
        return folder
    }
}
