import Foundation

/// Writes to stderr that can fail without harm: a full device, a closed pipe or a hung-up terminal loses the
/// text, never the training (`FileHandle.write` ends the process when a write fails).
public enum Console {
    public static func error(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                Foundation.write(2, $0.baseAddress! + offset, $0.count - offset)
            }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
