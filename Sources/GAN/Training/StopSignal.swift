import Foundation

/// SIGINT, SIGTERM (what SLURM sends before preemption) and SIGHUP (a closed terminal) ask training to stop
/// at the next step boundary; the trainer then writes a checkpoint that `--resume` continues from. A second
/// signal ends the process. SIGPIPE is ignored too (the command line does so at start), so output to a
/// closed pipe fails as a write instead of killing the run.
public enum StopSignal {
    nonisolated(unsafe) static var count: sig_atomic_t = 0

    public static var received: Bool { count > 0 }

    public static func install() {
        signal(SIGPIPE, SIG_IGN)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { number in
                StopSignal.count += 1
                if StopSignal.count > 1 { _exit(128 + number) }
            }
        }
    }
}
