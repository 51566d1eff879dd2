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
    private var lastCheckpointStep = -1
    public var worldSize = 1
    /// Scores samples every `logging.evaluate_every` epochs when set (rank 0 alone, so no collectives).
    public var evaluator: Evaluator?

    public init(_ url: URL, config: TrainingConfig, quiet: Bool = false) throws {
        self.url = url
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

    public func trainingStarted(_ trainer: Trainer) throws {
        window.restart()
        epochTotals.restart()
        progress.note("training \(trainer.config.name) on \(trainer.dataset.count) images of \(trainer.dataset.source), "
            + "\(trainer.totalSteps - trainer.step) steps of \(trainer.batchSize) from step \(trainer.step) on \(trainer.device); "
            + "run directory \(url.path)")
    }

    public func stepFinished(_ trainer: Trainer, metrics step: StepMetrics) throws {
        window.add(step)
        epochTotals.add(step)
        progress.update(trainer: trainer, window: window)
        guard trainer.step % trainer.config.logging.logEvery == 0 || trainer.step == trainer.totalSteps else { return }
        let imagesPerSecond = window.imagesPerSecond(batch: trainer.batchSize)
        var record = window.means
        record["images_per_second"] = imagesPerSecond
        record["generator_learning_rate"] = Double("\(trainer.models.generatorOptimizer.learningRate)") ?? 0
        record["discriminator_learning_rate"] = Double("\(trainer.models.discriminatorOptimizer.learningRate)") ?? 0
        try writeRecord(kind: "step", step: trainer.step, epoch: trainer.epochOfLastStep + 1, record)
        try tensorBoard.scalars(record.sorted { $0.key < $1.key }.map { (Self.tag($0.key), Float($0.value)) }, step: trainer.step)
        chart.points.append((trainer.step, record["discriminator_loss"].map(Float.init), record["generator_loss"].map(Float.init)))
        if !progress.isTerminal { progress.log(trainer: trainer, record: record) }
        window.restart()
    }

    public func epochFinished(_ trainer: Trainer, epoch: Int, testLosses: (discriminator: Float, generator: Float)?) throws {
        try writeGrid(trainer, name: String(format: "epoch-%04d.png", epoch + 1))
        var record = epochTotals.means
        if let testLosses {
            record["test_discriminator_loss"] = Double(testLosses.discriminator)
            record["test_generator_loss"] = Double(testLosses.generator)
            try tensorBoard.scalars([("test/discriminator_loss", testLosses.discriminator), ("test/generator_loss", testLosses.generator)], step: trainer.step)
        }
        try writeRecord(kind: "epoch", step: trainer.step, epoch: epoch + 1, record)
        let every = trainer.config.logging.evaluateEvery
        if let evaluator, every > 0, (epoch + 1) % every == 0 { try evaluate(trainer, evaluator, epoch: epoch) }
        try chart.svg(title: trainer.config.name).write(to: url.appendingPathComponent("losses.svg"), atomically: true, encoding: .utf8)
        progress.finishEpoch(epoch: epoch + 1, of: trainer.config.training.epochs, record: record)
        epochTotals.restart()
        if (epoch + 1) % trainer.config.logging.checkpointEvery == 0 { try checkpoint(trainer) }
        try tensorBoard.flush()
    }

    public func trainingFinished(_ trainer: Trainer) throws {
        // A run that ends within an epoch (max_steps, a signal) still shows where it got to.
        if trainer.step % trainer.batchesPerEpoch != 0 { try writeGrid(trainer, name: String(format: "step-%07d.png", trainer.step)) }
        if lastCheckpointStep != trainer.step { try checkpoint(trainer) }
        try tensorBoard.flush()
        progress.note("finished at step \(trainer.step); checkpoint \(checkpointsURL.appendingPathComponent("latest.safetensors").path)")
    }

    /// The fixed-noise samples as a PNG grid in images/ and in TensorBoard.
    func writeGrid(_ trainer: Trainer, name: String) throws {
        let (samples, _) = try trainer.fixedSamples(count: trainer.config.logging.gridSamples)
        let grid = ImageGrid(samples, columns: trainer.config.logging.imagesPerRow)
        let png = grid.png
        try png.write(to: imagesURL.appendingPathComponent(name), options: .atomic)
        try tensorBoard.image("samples", png: png, width: grid.width, height: grid.height, step: trainer.step)
    }

    /// FID, KID, IS and label accuracy of the generator now, to metrics.jsonl (`"kind": "evaluation"`) and
    /// TensorBoard (`quality/...`).
    func evaluate(_ trainer: Trainer, _ evaluator: Evaluator, epoch: Int) throws {
        let report = try evaluator.evaluate(generator: trainer.models.generator, config: trainer.config,
                                            count: trainer.config.logging.evaluationSamples)
        var values = ["fid": report.fid, "kid": report.kid, "inception_score": report.inceptionScore]
        if let accuracy = report.labelAccuracy { values["label_accuracy"] = accuracy }
        try writeRecord(kind: "evaluation", step: trainer.step, epoch: epoch + 1, values)
        try tensorBoard.scalars(values.sorted { $0.key < $1.key }.map { ("quality/\($0.key)", Float($0.value)) }, step: trainer.step)
        progress.note(String(format: "epoch %d quality: FID %.2f, KID %.3f, IS %.3f", epoch + 1, report.fid, report.kid, report.inceptionScore)
            + (report.labelAccuracy.map { String(format: ", label accuracy %.3f", $0) } ?? ""))
    }

    func checkpoint(_ trainer: Trainer) throws {
        try Checkpoint.save(trainer, in: checkpointsURL, keep: trainer.config.logging.keepCheckpoints, worldSize: worldSize)
        lastCheckpointStep = trainer.step
    }

    // MARK: - Records

    /// One JSON object per line: kind ("step" or "epoch"), step, epoch (1-based), then the values by name.
    private func writeRecord(kind: String, step: Int, epoch: Int, _ values: [String: Double]) throws {
        let fields = ["\"kind\": \"\(kind)\"", "\"step\": \(step)", "\"epoch\": \(epoch)"]
            + values.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value.isFinite ? String($0.value) : "null")" }
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
            ("discriminator_loss", m.discriminatorLoss.map(Double.init)), ("generator_loss", m.generatorLoss.map(Double.init)),
            ("real_score", m.realScore.map(Double.init)), ("fake_score", m.fakeScore.map(Double.init)),
            ("gradient_penalty", m.gradientPenalty.map(Double.init)),
            ("discriminator_gradient_norm", m.discriminatorGradientNorm), ("generator_gradient_norm", m.generatorGradientNorm),
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
    private var startStep: Int?

    init(quiet: Bool) {
        self.quiet = quiet
        isTerminal = isatty(2) == 1
    }

    func note(_ text: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    func update(trainer: Trainer, window: MetricsWindow) {
        if startStep == nil { startStep = trainer.step - 1 }
        guard isTerminal, !quiet else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw > 200_000_000 || trainer.step == trainer.totalSteps else { return }
        lastDraw = now
        let means = window.means
        let line = String(
            format: "epoch %d/%d  step %d/%d  %.0f img/s  ETA %@  D %.4f  G %.4f",
            trainer.epochOfLastStep + 1, trainer.config.training.epochs, trainer.step, trainer.totalSteps,
            rate(trainer) * Double(trainer.batchSize), eta(trainer), means["discriminator_loss"] ?? .nan, means["generator_loss"] ?? .nan)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    func log(trainer: Trainer, record: [String: Double]) {
        guard !quiet else { return }
        note(String(format: "epoch %d/%d step %d/%d %.0f img/s ETA %@ D %.4f G %.4f D(x) %.3f D(G(z)) %.3f",
                    trainer.epochOfLastStep + 1, trainer.config.training.epochs, trainer.step, trainer.totalSteps,
                    record["images_per_second"] ?? 0, eta(trainer), record["discriminator_loss"] ?? .nan,
                    record["generator_loss"] ?? .nan, record["real_score"] ?? .nan, record["fake_score"] ?? .nan))
    }

    func finishEpoch(epoch: Int, of total: Int, record: [String: Double]) {
        var text = String(format: "epoch %d/%d done: D %.4f G %.4f", epoch, total, record["discriminator_loss"] ?? .nan, record["generator_loss"] ?? .nan)
        if let d = record["test_discriminator_loss"], let g = record["test_generator_loss"] { text += String(format: "; test D %.4f G %.4f", d, g) }
        note(text)
    }

    /// Steps per second since this process started training.
    private func rate(_ trainer: Trainer) -> Double {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return Double(trainer.step - (startStep ?? trainer.step)) / max(seconds, 1e-9)
    }

    private func eta(_ trainer: Trainer) -> String {
        let perSecond = rate(trainer)
        guard perSecond > 0 else { return "?" }
        let seconds = Int(Double(trainer.totalSteps - trainer.step) / perSecond)
        return seconds >= 3600 ? "\(seconds / 3600)h\(seconds % 3600 / 60)m" : "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s"
    }
}
