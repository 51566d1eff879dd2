import Foundation

/// Everything a run leaves for its user, in `runs/NAME/`: the resolved config, TensorBoard events,
/// `metrics.jsonl`, `losses.svg`, a sample grid per epoch and checkpoints; and a progress line on stderr.
/// Only rank 0 of a distributed run creates one.
public final class RunDirectory: TrainingObserver {
    public let url: URL
    public var imagesURL: URL { url.appendingPathComponent("images") }
    public var checkpointsURL: URL { url.appendingPathComponent("checkpoints") }
    let tensorBoard: TensorBoardWriter
    private let metrics: FileHandle
    private var chart = LossChart()
    private let progress: ProgressLine
    private var window = MetricsWindow()
    private var epochTotals = MetricsWindow()
    private let name: String
    private let keepCheckpoints: Int
    private let imagesPerRow: Int
    private let logEvery: Int

    public init(_ url: URL, config: TrainingConfig, quiet: Bool = false) throws {
        self.url = url
        name = config.name
        keepCheckpoints = config.logging.keepCheckpoints
        imagesPerRow = config.logging.imagesPerRow
        logEvery = config.logging.logEvery
        let files = FileManager.default
        for folder in [url, url.appendingPathComponent("images"), url.appendingPathComponent("checkpoints")] {
            try files.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        try config.yaml.write(to: url.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        tensorBoard = try TensorBoardWriter(directory: url)
        let metricsURL = url.appendingPathComponent("metrics.jsonl")
        if !files.fileExists(atPath: metricsURL.path) { files.createFile(atPath: metricsURL.path, contents: nil) }
        metrics = try FileHandle(forWritingTo: metricsURL)
        try metrics.seekToEnd()
        progress = ProgressLine(quiet: quiet)
    }

    deinit { try? metrics.close() }

    // MARK: - TrainingObserver

    public var wantsArtifacts: Bool { true }

    public func trainingStarted(_ start: TrainingStart) throws {
        try clearResidue(after: start.step)
        window.restart()
        epochTotals.restart()
        progress.start(start)
        progress.note(
            "training \(start.config.name) on \(start.imageCount) images of \(start.dataSource), "
                + "\(start.totalSteps - start.step) steps of \(start.config.training.batchSize) from step \(start.step) on \(start.device)"
                + (start.config.training.reproducible
                    ? ", reproducible in \(start.config.training.reproducibleChunks) chunks" : "")
                + "; run directory \(url.path)")
    }

    public func stepFinished(_ step: StepMetrics, progress state: TrainingProgress) throws {
        window.add(step)
        epochTotals.add(step)
        progress.update(state, window: window)
        guard state.step % logEvery == 0 || state.step == state.totalSteps else { return }
        var record = window.means
        record["images_per_second"] = window.imagesPerSecond(batch: state.batchSize)
        record["generator_learning_rate"] = Double("\(state.generatorLearningRate)") ?? 0
        record["discriminator_learning_rate"] = Double("\(state.discriminatorLearningRate)") ?? 0
        try writeRecord(kind: "step", step: state.step, epoch: state.epoch, record)
        try tensorBoard.scalars(
            record.sorted { $0.key < $1.key }.map { (Self.tag($0.key), Float($0.value)) }, step: state.step)
        chart.points.append(
            (state.step, record["discriminator_loss"].map(Float.init), record["generator_loss"].map(Float.init)))
        if !progress.isTerminal { progress.log(state, record: record) }
        window.restart()
    }

    public func epochFinished(_ report: EpochReport) throws {
        if let grid = report.grid {
            try writeGrid(grid, name: String(format: "epoch-%04d.png", report.epoch), step: report.step)
        }
        var record = epochTotals.means
        if let testLosses = report.testLosses {
            record["test_discriminator_loss"] = Double(testLosses.discriminator)
            record["test_generator_loss"] = Double(testLosses.generator)
            try tensorBoard.scalars(
                [("test/discriminator_loss", testLosses.discriminator), ("test/generator_loss", testLosses.generator)],
                step: report.step)
        }
        try writeRecord(kind: "epoch", step: report.step, epoch: report.epoch, record)
        if let evaluation = report.evaluation { try write(evaluation, epoch: report.epoch, step: report.step) }
        try chart.svg(title: name).write(
            to: url.appendingPathComponent("losses.svg"), atomically: true, encoding: .utf8)
        progress.finishEpoch(epoch: report.epoch, of: report.epochs, record: record)
        epochTotals.restart()
        if let checkpoint = report.checkpoint {
            try Checkpoint.write(checkpoint, in: checkpointsURL, keep: keepCheckpoints)
        }
        try tensorBoard.flush()
    }

    public func trainingFinished(_ report: FinishReport) throws {
        if let grid = report.grid {
            try writeGrid(grid, name: String(format: "step-%07d.png", report.step), step: report.step)
        }
        if let checkpoint = report.checkpoint {
            try Checkpoint.write(checkpoint, in: checkpointsURL, keep: keepCheckpoints)
        }
        try tensorBoard.flush()
        progress.note(
            "finished at step \(report.step); checkpoint \(checkpointsURL.appendingPathComponent("latest.safetensors").path)"
        )
    }

    /// The fixed-noise samples as a PNG grid in images/ and in TensorBoard.
    func writeGrid(_ grid: SampleGrid, name: String, step: Int) throws {
        let image = ImageGrid(grid.images, columns: imagesPerRow)
        let png = image.png
        try png.write(to: imagesURL.appendingPathComponent(name), options: .atomic)
        try tensorBoard.image(
            "samples", png: png, width: image.width, height: image.height, channels: image.channels, step: step)
    }

    /// FID, KID, IS and label accuracy to metrics.jsonl (`"kind": "evaluation"`) and TensorBoard (`quality/...`).
    func write(_ report: Evaluator.Report, epoch: Int, step: Int) throws {
        var values = ["fid": report.fid, "kid": report.kid, "inception_score": report.inceptionScore]
        if let accuracy = report.labelAccuracy { values["label_accuracy"] = accuracy }
        try writeRecord(kind: "evaluation", step: step, epoch: epoch, values)
        try tensorBoard.scalars(
            values.sorted { $0.key < $1.key }.map { ("quality/\($0.key)", Float($0.value)) }, step: step)
        progress.note(
            String(
                format: "epoch %d quality: FID %.2f, KID %.3f, IS %.3f", epoch, report.fid, report.kid,
                report.inceptionScore)
                + (report.labelAccuracy.map { String(format: ", label accuracy %.3f", $0) } ?? ""))
    }

    /// What a killed run left behind, before this run writes: temporary checkpoint files (no other writer
    /// lives: rank 0 holds the directory's lock), and the metrics records of steps after `step`, which this
    /// run is about to do again. Records are appended in step order, so they are the file's tail; it is cut
    /// in place, since the open handle must go on writing the same file.
    func clearResidue(after step: Int) throws {
        let files = FileManager.default
        for name in (try? files.contentsOfDirectory(atPath: checkpointsURL.path)) ?? []
        where name.hasPrefix(".") && name.contains(".tmp-") {
            try? files.removeItem(at: checkpointsURL.appendingPathComponent(name))
        }
        let text = try Data(contentsOf: url.appendingPathComponent("metrics.jsonl"))
        var kept = 0
        for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let record = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            if let recorded = record?["step"] as? Int, recorded > step { break }
            kept += line.count + 1
        }
        if kept < text.count {
            try metrics.truncate(atOffset: UInt64(kept))
            try metrics.seekToEnd()
        }
    }

    // MARK: - Records

    /// One JSON object per line: kind ("step" or "epoch"), step, epoch (1-based), then the values by name.
    private func writeRecord(kind: String, step: Int, epoch: Int, _ values: [String: Double]) throws {
        let fields =
            ["\"kind\": \"\(kind)\"", "\"step\": \(step)", "\"epoch\": \(epoch)"]
            + values.sorted { $0.key < $1.key }.map {
                "\"\($0.key)\": \($0.value.isFinite ? String($0.value) : "null")"
            }
        try metrics.write(contentsOf: Data(("{" + fields.joined(separator: ", ") + "}\n").utf8))
    }

    /// TensorBoard groups tags by the part before the slash.
    static func tag(_ key: String) -> String {
        switch key {
        case "discriminator_loss": "loss/discriminator"
        case "generator_loss": "loss/generator"
        case "gradient_penalty": "loss/gradient_penalty"
        case "real_score": "score/D(x)"
        case "fake_score": "score/D(G(z))"
        case "images_per_second": "throughput/images_per_second"
        case "generator_learning_rate": "learning_rate/generator"
        case "discriminator_learning_rate": "learning_rate/discriminator"
        case "discriminator_gradient_norm": "gradient_norm/discriminator"
        case "generator_gradient_norm": "gradient_norm/generator"
        case "data_wait_ms": "throughput/data_wait_ms"
        case "step_ms": "throughput/step_ms"
        default: key
        }
    }
}

/// Running means of step metrics over a window of steps, and its wall time.
struct MetricsWindow {
    private var sums: [String: (total: Double, count: Int)] = [:]
    private(set) var steps = 0
    private var start = DispatchTime.now().uptimeNanoseconds

    mutating func restart() {
        sums = [:]
        steps = 0
        start = DispatchTime.now().uptimeNanoseconds
    }

    mutating func add(_ m: StepMetrics) {
        steps += 1
        let values: [(String, Double?)] = [
            ("discriminator_loss", m.discriminatorLoss.map(Double.init)),
            ("generator_loss", m.generatorLoss.map(Double.init)),
            ("real_score", m.realScore.map(Double.init)), ("fake_score", m.fakeScore.map(Double.init)),
            ("gradient_penalty", m.gradientPenalty.map(Double.init)),
            ("discriminator_gradient_norm", m.discriminatorGradientNorm),
            ("generator_gradient_norm", m.generatorGradientNorm),
            ("data_wait_ms", m.dataWaitSeconds * 1e3), ("step_ms", m.slowestStepSeconds * 1e3),
        ]
        for case let (key, value?) in values {
            let old = sums[key] ?? (0, 0)
            sums[key] = (old.total + value, old.count + 1)
        }
    }

    var means: [String: Double] { sums.mapValues { $0.total / Double(max($0.count, 1)) } }
    var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    func imagesPerSecond(batch: Int) -> Double { Double(steps * batch) / max(seconds, 1e-9) }
}

/// The live progress line: redrawn in place on a terminal, plain log lines when stderr is a file or pipe.
final class ProgressLine {
    let isTerminal: Bool
    let quiet: Bool
    private var lastDraw: UInt64 = 0
    private let started = DispatchTime.now().uptimeNanoseconds
    private var startStep = 0

    init(quiet: Bool) {
        self.quiet = quiet
        isTerminal = isatty(2) == 1
    }

    func start(_ start: TrainingStart) {
        startStep = start.step
    }

    func note(_ text: String) {
        guard !quiet else { return }
        Console.error((isTerminal ? "\r\u{1B}[K" : "") + text + "\n")
    }

    func update(_ state: TrainingProgress, window: MetricsWindow) {
        guard isTerminal, !quiet else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw > 200_000_000 || state.step == state.totalSteps else { return }
        lastDraw = now
        let means = window.means
        let line = String(
            format: "epoch %d/%d  step %d/%d  %.0f img/s  ETA %@  D %.4f  G %.4f",
            state.epoch, state.epochs, state.step, state.totalSteps, rate(state) * Double(state.batchSize), eta(state),
            means["discriminator_loss"] ?? .nan, means["generator_loss"] ?? .nan)
        Console.error("\r\u{1B}[K\(line)")
    }

    func log(_ state: TrainingProgress, record: [String: Double]) {
        guard !quiet else { return }
        note(
            String(
                format: "epoch %d/%d step %d/%d %.0f img/s ETA %@ D %.4f G %.4f D(x) %.3f D(G(z)) %.3f",
                state.epoch, state.epochs, state.step, state.totalSteps,
                record["images_per_second"] ?? 0, eta(state), record["discriminator_loss"] ?? .nan,
                record["generator_loss"] ?? .nan, record["real_score"] ?? .nan, record["fake_score"] ?? .nan))
    }

    func finishEpoch(epoch: Int, of total: Int, record: [String: Double]) {
        var text = String(
            format: "epoch %d/%d done: D %.4f G %.4f", epoch, total, record["discriminator_loss"] ?? .nan,
            record["generator_loss"] ?? .nan)
        if let d = record["test_discriminator_loss"], let g = record["test_generator_loss"] {
            text += String(format: "; test D %.4f G %.4f", d, g)
        }
        note(text)
    }

    /// Steps per second since this process started training.
    private func rate(_ state: TrainingProgress) -> Double {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return Double(state.step - startStep) / max(seconds, 1e-9)
    }

    private func eta(_ state: TrainingProgress) -> String {
        let perSecond = rate(state)
        guard perSecond > 0 else { return "?" }
        let seconds = Int(Double(state.totalSteps - state.step) / perSecond)
        return seconds >= 3600
            ? "\(seconds / 3600)h\(seconds % 3600 / 60)m" : "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s"
    }
}
