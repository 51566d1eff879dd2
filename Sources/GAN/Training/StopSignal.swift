import Foundation

/// SIGINT, SIGTERM (what SLURM sends before preemption) and SIGHUP (a closed terminal) ask training to stop
/// at the next step boundary; the trainer then writes a checkpoint that `--resume` continues from. A second
/// signal ends the process, unless it comes while a checkpoint is being written: then it says so, and a third
/// ends the process. SIGPIPE is ignored too (the command line does so at start), so output to a closed pipe
/// fails as a write instead of killing the run.
public enum StopSignal {
    nonisolated(unsafe) static var count: sig_atomic_t = 0
    nonisolated(unsafe) static var writingCheckpoint: sig_atomic_t = 0
    /// Made before any handler runs: a handler may only call write(2) on memory that already exists.
    nonisolated(unsafe) static let waitMessage = Array(
        "\nwaiting for the checkpoint being written to finish, then stopping (again to abandon it)\n".utf8)

    public static var received: Bool { count > 0 }

    public static func install() {
        signal(SIGPIPE, SIG_IGN)
        _ = waitMessage.count
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { number in
                StopSignal.count += 1
                if StopSignal.count == 2, StopSignal.writingCheckpoint != 0 {
                    _ = StopSignal.waitMessage.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count) }
                } else if StopSignal.count > 1 {
                    _exit(128 + number)
                }
            }
        }
    }

    /// Runs `body` (a checkpoint's writing) marked as such for the handlers.
    static func whileWritingCheckpoint<T>(_ body: () throws -> T) rethrows -> T {
        writingCheckpoint = 1
        defer { writingCheckpoint = 0 }
        return try body()
    }
}
