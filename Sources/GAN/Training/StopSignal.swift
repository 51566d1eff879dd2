import Foundation

/// SIGINT and SIGTERM (what SLURM sends before preemption) ask training to stop at the next step boundary;
/// the trainer then writes a checkpoint that `--resume` continues from. A second signal ends the process.
public enum StopSignal {
    nonisolated(unsafe) static var count: sig_atomic_t = 0

    public static var received: Bool { count > 0 }

    public static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { number in
                StopSignal.count += 1
                if StopSignal.count > 1 { _exit(128 + number) }
            }
        }
    }
}
