import ArgumentParser
import Distributed
import Foundation
import GAN

/// Full training steps on synthetic data, timed: one JSON line from rank 0.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time full training steps of a config on synthetic in-memory data; prints one JSON line.")

    @Option(help: "The config (Configs/*.yaml).") var config: String
    @Option(help: "Timed steps.") var steps = 20
    @Option(help: "Untimed steps first.") var warmup = 3
    @Option(help: "Global batch (default: the config's).") var batchSize: Int?
    @Flag(
        help:
            "Also print where each rank's step goes (compute, SyncBN, gradient allreduce wait, data wait, waiting for the slowest rank) to stderr, and add it to the JSON."
    )
    var timeline = false
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup cannot be negative") }
    }

    func run() throws {
        let communicator = Launcher.communicator()
        try Launcher.runOrAbort(communicator) { try bench(communicator) }
    }

    func bench(_ communicator: Communicator) throws {
        var settings = [
            "logging.evaluate_test_split=false", "training.max_steps=\(warmup + steps)", "training.epochs=1000",
        ]
        settings += options.settings
        if let batchSize { settings.append("training.batch_size=\(batchSize)") }
        var config = try TrainingConfig.load(URL(fileURLWithPath: self.config), overrides: settings)
        Launcher.useThreads(config.runtime.threads, communicator)
        config.runtime.device = try Launcher.device(config.runtime.device, communicator)
        _ = try config.runtime.device.backend  // no driver, library or GPU: a one-line error before anything else
        // Synthetic digits: enough for every step, random bytes, random labels.
        let count = config.training.batchSize * 8
        let random = RandomGenerator(seed: 7)
        let side = config.data.imageSize
        let pixels = (0..<(count * side * side)).map { _ in UInt8(random.integer(below: 256)) }
        let labels = (0..<count).map { _ in random.integer(below: 10) }
        let data = ImageDataset(pixels: pixels, labels: labels, imageSize: side, source: "synthetic")
        let trainer = try Trainer(
            config: config, dataset: data, communicator: communicator, overlap: !options.noOverlap)
        let timer = StepTimer(skip: warmup)
        trainer.observers = [timer]
        try trainer.run()

        let peak = try communicator.allreduceMax(Self.peakMemoryMegabytes())
        let ranks = timeline ? try Self.timeline(timer.thisRank, communicator) : []
        guard communicator.isRoot else { return }
        let n = Double(timer.slowest.count)
        let step = timer.slowest.reduce(0, +) / n
        let allreduce = timer.allreduce.reduce(0, +) / n, syncBN = timer.syncBatchNorm.reduce(0, +) / n
        let dataWait = timer.dataWait.reduce(0, +) / n
        // On the CPU the speed and the cut of every GEMM depend on OpenBLAS's kernels (Launch/openblas-coretype).
        let blas: [(String, String)] =
            config.runtime.device == .cpu
            ? [("blas_kernels", "\"\(GemmCut.kernels)\""), ("gemm_cut", "\"\(GemmCut.current)\"")] : []
        var fields: [(String, String)] =
            [
                ("config", "\"\(config.name)\""), ("device", "\"\(config.runtime.device)\""),
                ("world_size", "\(communicator.size)"), ("threads", "\(ComputeThreads.count)"),
            ] + blas + [
                ("global_batch", "\(config.training.batchSize)"),
                ("per_rank_batch", "\(trainer.localBatchSize)"), ("steps", "\(timer.slowest.count)"),
                ("overlap", "\(!options.noOverlap)"), ("reproducible", "\(config.training.reproducible)"),
                ("images_per_second", format(Double(config.training.batchSize) / step)),
                ("ms_per_step", format(step * 1e3)), ("compute_ms", format((step - allreduce - syncBN) * 1e3)),
                ("allreduce_wait_ms", format(allreduce * 1e3)), ("syncbn_ms", format(syncBN * 1e3)),
                ("allreduce_share", String(format: "%.4f", allreduce / step)),
                ("data_wait_ms", String(format: "%.3f", dataWait * 1e3)), ("peak_memory_mb", format(peak)),
            ]
        if timeline {
            Console.error(RankTimeline.table(ranks))
            fields.append(("timeline", "[" + ranks.map(\.json).joined(separator: ", ") + "]"))
        }
        print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }

    /// The largest resident set this process has had (VmHWM), in MB.
    static func peakMemoryMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ")[1])
        else { return 0 }
        return kilobytes / 1024
    }
}

/// Collects the per-step timings after the warm-up.
final class StepTimer: TrainingObserver {
    let skip: Int
    var slowest: [Double] = [], allreduce: [Double] = [], syncBatchNorm: [Double] = [], dataWait: [Double] = []
    var thisRank: [RankTimes] = []
    init(skip: Int) { self.skip = skip }
    func stepFinished(_ metrics: StepMetrics, progress: TrainingProgress) throws {
        guard progress.step > skip else { return }
        slowest.append(metrics.slowestStepSeconds)
        allreduce.append(metrics.allreduceSeconds)
        syncBatchNorm.append(metrics.syncBatchNormSeconds)
        dataWait.append(metrics.dataWaitSeconds)
        thisRank.append(metrics.thisRank)
    }
}

extension Bench {
    /// Every rank's mean times over the timed steps, gathered to all.
    static func timeline(_ steps: [RankTimes], _ communicator: Communicator) throws -> [RankTimeline] {
        let n = Double(max(steps.count, 1))
        func mean(_ value: (RankTimes) -> Double) -> Double { steps.map(value).reduce(0, +) / n }
        let mine = [
            mean(\.stepSeconds), mean(\.computeSeconds), mean(\.syncBatchNormSeconds),
            mean { Double($0.syncBatchNormCollectives) }, mean(\.allreduceSeconds), mean(\.dataWaitSeconds),
        ]
        let gathered = try mine.map { try communicator.allgather($0) }
        let slowestCompute = gathered[1].max() ?? 0
        return (0..<communicator.size).map { rank in
            RankTimeline(
                rank: rank, step: gathered[0][rank], compute: gathered[1][rank], syncBatchNorm: gathered[2][rank],
                syncBatchNormCollectives: gathered[3][rank], allreduceWait: gathered[4][rank],
                dataWait: gathered[5][rank], behindSlowest: slowestCompute - gathered[1][rank])
        }
    }
}

/// One rank's mean step, taken apart. `behindSlowest` is how much less this rank computes than the slowest
/// one: time it spends waiting for it inside the collectives (part of the SyncBN and allreduce figures).
struct RankTimeline {
    let rank: Int
    let step: Double, compute: Double, syncBatchNorm: Double, syncBatchNormCollectives: Double
    let allreduceWait: Double, dataWait: Double, behindSlowest: Double

    var json: String {
        String(
            format:
                #"{"rank": %d, "step_ms": %.2f, "compute_ms": %.2f, "syncbn_ms": %.2f, "syncbn_collectives": %.0f, "allreduce_wait_ms": %.2f, "data_wait_ms": %.3f, "waits_for_slowest_ms": %.2f}"#,
            rank, step * 1e3, compute * 1e3, syncBatchNorm * 1e3, syncBatchNormCollectives, allreduceWait * 1e3,
            dataWait * 1e3, behindSlowest * 1e3)
    }

    static func table(_ ranks: [RankTimeline]) -> String {
        var text =
            "rank   step ms  compute ms  SyncBN ms (collectives)  allreduce wait ms  data wait ms  waits for slowest ms\n"
        for r in ranks {
            text += String(
                format: "%4d  %8.2f  %10.2f  %9.2f (%4.0f)         %17.2f  %12.3f  %20.2f\n", r.rank, r.step * 1e3,
                r.compute * 1e3, r.syncBatchNorm * 1e3, r.syncBatchNormCollectives, r.allreduceWait * 1e3,
                r.dataWait * 1e3, r.behindSlowest * 1e3)
        }
        return text
    }
}
