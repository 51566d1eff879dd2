import Foundation

/// An advisory lock on a run directory (`flock` on its `.lock` file), held by rank 0 for the life of a
/// training run: a second training into the same directory, resumed or not, is refused while the first
/// lives. The kernel releases the lock when the process ends, however it ends, so a crashed run leaves
/// nothing to clean up.
public final class RunLock {
    private let descriptor: Int32

    public struct Held: Error, CustomStringConvertible {
        public let directory: String
        public let holder: String
        public var description: String {
            "\(directory) is in use by another training (\(holder)); wait for it to end or choose another --run-dir"
        }
    }

    /// Takes the lock of `directory` (created if missing), or throws `Held` naming the process that has it.
    public init(_ directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(".lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let pid = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            close(descriptor)
            throw Held(
                directory: directory.path, holder: pid.map { $0.isEmpty ? "a process" : "pid \($0)" } ?? "a process")
        }
        // Who holds it, for the message a second run prints.
        let text = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { Foundation.write(descriptor, $0, strlen($0)) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
