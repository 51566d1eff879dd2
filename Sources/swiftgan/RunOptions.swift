import ArgumentParser

/// The options `train` and `bench` share: config overrides and how the run computes and communicates.
struct RunOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: "Override any config key: --set training.batch_size=32 (repeatable).")
    var overrides: [String] = []
    @Option(
        help:
            "Where to train: cpu, cuda or cuda:N (overrides runtime.device; under mpirun each rank takes its own GPU).")
    var device: String?
    @Option(help: "CPU threads per process (overrides runtime.threads; 0: all cores, divided among the ranks).")
    var threads: Int?
    @Flag(
        help:
            "The same bits on any number of ranks, at some cost in speed (sets training.reproducible; docs/distributed.md)."
    )
    var reproducible = false
    @Flag(
        help:
            "Average gradients with one blocking allreduce after backward instead of overlapping bucket allreduces with it."
    )
    var noOverlap = false

    /// `--set` values, then the keys the other options set (so an option wins over a `--set` of its key).
    var settings: [String] {
        var settings = overrides
        if let device { settings.append("runtime.device=\(device)") }
        if let threads { settings.append("runtime.threads=\(threads)") }
        if reproducible { settings.append("training.reproducible=true") }
        return settings
    }
}
