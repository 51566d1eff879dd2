import Foundation
import Yams

/// One key of a config file: its path, what it means, what it accepts and where it lives in `TrainingConfig`.
/// `ConfigKey.all` lists every key once; reading, writing (`TrainingConfig.yaml`) and the reference
/// (`swiftgan config-keys`, docs/configuration.md) all come from that list, so adding a key is one entry.
struct ConfigKey {
    let path: [String]
    let documentation: String
    /// What the file accepts, as the reference shows it.
    let accepts: String
    /// Reads the key from `reader` (its section) into `config`, keeping the default when it is absent.
    let read: (_ reader: ConfigReader, _ config: inout TrainingConfig) throws -> Void
    /// The resolved value as YAML.
    let node: (TrainingConfig) -> Yams.Node

    var name: String { path[path.count - 1] }

    // MARK: - Kinds of key

    private static func make(
        _ path: String, _ documentation: String, accepts: String,
        read: @escaping (ConfigReader, String, inout TrainingConfig) throws -> Void,
        node: @escaping (TrainingConfig) -> Yams.Node
    ) -> ConfigKey {
        let parts = path.split(separator: ".").map(String.init)
        let name = parts[parts.count - 1]
        return ConfigKey(
            path: parts, documentation: documentation, accepts: accepts, read: { try read($0, name, &$1) }, node: node)
    }

    static func integer(
        _ path: String, _ key: WritableKeyPath<TrainingConfig, Int>, in range: ClosedRange<Int>, _ doc: String
    ) -> ConfigKey {
        make(
            path, doc,
            accepts: range.upperBound == Int.max
                ? "\(range.lowerBound)..." : "\(range.lowerBound)...\(range.upperBound)",
            read: { r, name, c in c[keyPath: key] = try r.int(name, default: c[keyPath: key], in: range) },
            node: { Yams.Node(String($0[keyPath: key]), Tag(.int)) })
    }

    static func number(
        _ path: String, _ key: WritableKeyPath<TrainingConfig, Float>, in range: ClosedRange<Float>, _ doc: String
    ) -> ConfigKey {
        make(
            path, doc, accepts: "\(range.lowerBound)...\(range.upperBound)",
            read: { r, name, c in c[keyPath: key] = try r.float(name, default: c[keyPath: key], in: range) },
            node: { floatNode($0[keyPath: key]) })
    }

    static func flag(_ path: String, _ key: WritableKeyPath<TrainingConfig, Bool>, _ doc: String) -> ConfigKey {
        make(
            path, doc, accepts: "true, false",
            read: { r, name, c in c[keyPath: key] = try r.bool(name, default: c[keyPath: key]) },
            node: { Yams.Node($0[keyPath: key] ? "true" : "false", Tag(.bool)) })
    }

    static func text(_ path: String, _ key: WritableKeyPath<TrainingConfig, String>, _ doc: String) -> ConfigKey {
        make(
            path, doc, accepts: "text",
            read: { r, name, c in c[keyPath: key] = try r.string(name, default: c[keyPath: key]) },
            node: { config in
                let value = config[keyPath: key]
                // '' rather than an empty value, which YAML reads as null.
                return Yams.Node(value, Tag(.str), value.isEmpty ? .singleQuoted : .any)
            })
    }

    /// One of an enum's raw values; anything else is an error listing them.
    static func choice<Choice: RawRepresentable & CaseIterable>(
        _ path: String, _ key: WritableKeyPath<TrainingConfig, Choice>, _ doc: String
    ) -> ConfigKey where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        return make(
            path, doc, accepts: names.joined(separator: ", "),
            read: { r, name, c in
                let text = try r.string(name, default: c[keyPath: key].rawValue, allowed: names)
                // `allowed` admitted only raw values of Choice.
                c[keyPath: key] = Choice(rawValue: text)!
            },
            node: { Yams.Node($0[keyPath: key].rawValue, Tag(.str)) })
    }

    /// A list of `count` numbers, each inside `range`.
    static func numbers(
        _ path: String, _ key: WritableKeyPath<TrainingConfig, [Float]>, count: Int, each range: Range<Float>,
        _ doc: String
    ) -> ConfigKey {
        make(
            path, doc, accepts: "\(count) numbers in [\(range.lowerBound), \(range.upperBound))",
            read: { r, name, c in
                let values = try r.floats(name, default: c[keyPath: key], count: count)
                if values.contains(where: { !range.contains($0) }) {
                    throw r.error(name, "each value must be in [\(range.lowerBound), \(range.upperBound))")
                }
                c[keyPath: key] = values
            },
            node: { config in flowList(config[keyPath: key].map(floatNode)) })
    }

    /// A float in a form YAML 1.1 reads back as a float (`1.0e-08`, not `1e-08`).
    static func floatNode(_ value: Float) -> Yams.Node {
        var text = "\(value)"
        if let e = text.firstIndex(of: "e"), !text[..<e].contains(".") { text.insert(contentsOf: ".0", at: e) }
        return Yams.Node(text, Tag(.float))
    }

    static func flowList(_ items: [Yams.Node]) -> Yams.Node {
        Yams.Node.sequence(Yams.Node.Sequence(items, Tag(.seq), .flow))
    }

    // MARK: - Every key

    static let all: [ConfigKey] =
        [
            ConfigKey.make(
                "name", "The run's name: its run directory is runs/NAME unless --run-dir says otherwise.",
                accepts: "letters, digits, . _ -",
                read: { r, name, c in
                    let text = try r.string(name, default: c.name)
                    let plain = text.unicodeScalars.allSatisfy {
                        CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)
                    }
                    guard plain, !text.isEmpty, !text.hasPrefix(".") else {
                        throw r.error(name, "'\(text)' must be a plain name (letters, digits, . _ -), not a path")
                    }
                    c.name = text
                },
                node: { Yams.Node($0.name, Tag(.str)) }),
            integer(
                "seed", \.seed, in: 0...Int(UInt32.max),
                "Seeds the initialisation and every keyed random draw (noise, labels, order, penalty weights)."),
            choice(
                "data.dataset", \.data.dataset,
                "Which IDX files to read; the folder is data.directory, else Data/DATASET."),
            text(
                "data.directory", \.data.directory,
                "A folder of IDX files (train-images-idx3-ubyte[.gz], t10k-...) or of images; empty: Data/DATASET."),
            choice(
                "data.format", \.data.format,
                "idx files, a folder of PNG/JPEG images (class subfolders give labels), or auto: idx when the "
                    + "folder has IDX files."),
            ConfigKey.make(
                "data.channels",
                "1 (grey) or 3 (RGB): images are converted as PIL converts them, and the models make this many.",
                accepts: "1, 3",
                read: { r, name, c in
                    let channels = try r.int(name, default: c.data.channels, in: 1...3)
                    guard channels != 2 else { throw r.error(name, "expected 1 (grey) or 3 (RGB), got 2") }
                    c.data.channels = channels
                },
                node: { Yams.Node(String($0.data.channels), Tag(.int)) }),
            flag("data.flip", \.data.flip, "Flip each training image left-right with probability 1/2."),
            flag(
                "data.strict", \.data.strict,
                "An unreadable image in a folder is an error instead of a warning and a skip."),
            text(
                "data.cache", \.data.cache,
                "Where decoded image folders are cached; empty: $SWIFTGAN_CACHE, else ~/.cache/swiftgan/images."),
            integer(
                "data.image_size", \.data.imageSize, in: 8...256,
                "Images are resized (bilinear) to this side; it must be the architecture's."),
            ConfigKey.make(
                "data.range", "Pixel values the networks see: [-1, 1] (Tanh generators) or [0, 1].",
                accepts: "[-1, 1], [0, 1]",
                read: { r, name, c in
                    let range = try r.floats(name, default: c.data.range == .symmetric ? [-1, 1] : [0, 1], count: 2)
                    switch range {
                    case [-1, 1]: c.data.range = .symmetric
                    case [0, 1]: c.data.range = .unit
                    default: throw r.error(name, "expected [-1, 1] or [0, 1], got \(range)")
                    }
                },
                node: {
                    flowList(
                        ($0.data.range == .symmetric ? [-1, 1] : [0, 1]).map { Yams.Node(String($0), Tag(.int)) })
                }),
            choice("model.architecture", \.model.architecture, "The networks (docs/models.md)."),
            integer("model.noise_size", \.model.noiseSize, in: 1...4096, "Length of the generator's noise vector z."),
            integer(
                "model.classes", \.model.classes, in: 0...1000,
                "Label classes of a conditional model (gan as cGAN, sngan); 0: unconditional."),
            number(
                "model.batch_norm_epsilon", \.model.batchNormEpsilon, in: 0...10,
                "BatchNorm1d eps of the gan generator (the seed's 0.8)."),
            flag(
                "model.discriminator_sigmoid", \.model.discriminatorSigmoid,
                "End D in a Sigmoid (bce); false for critics' scores."),
            flag(
                "model.discriminator_batch_norm", \.model.discriminatorBatchNorm,
                "Batch norm in the DCGAN discriminator; false for a gradient-penalty critic."),
            choice(
                "model.initialization", \.model.initialization,
                "pytorch: the layers' defaults; dcgan-normal (seed 004) or dcgan64-normal (seed 002): N(0, 0.02) convolutions."
            ),
            choice("loss.kind", \.loss.kind, "bce (GAN, DCGAN), hinge (SNGAN) or wasserstein (WGAN, WGAN-GP)."),
            choice(
                "loss.discriminator_reduction", \.loss.discriminatorReduction,
                "How D's real and fake BCE terms combine: sum (seed 004) or mean (seed 001)."),
            number(
                "loss.gradient_penalty", \.loss.gradientPenalty, in: 0...1e6,
                "Weight of WGAN-GP's gradient penalty; 0: none."),
            number("loss.clip", \.loss.clip, in: 0...1e6, "WGAN's weight-clipping bound for the critic; 0: none."),
            integer(
                "schedule.critic_steps", \.schedule.criticSteps, in: 1...1000,
                "A generator step on every n-th batch (WGAN's n_critic)."),
            integer(
                "schedule.discriminator_every", \.schedule.discriminatorEvery, in: 1...100_000,
                "A discriminator step on every n-th batch (seed 000 uses 100)."),
            choice(
                "schedule.generator_fakes", \.schedule.generatorFakes,
                "The G step's fakes: reuse D's, regenerate them from the same noise, or draw fresh noise."),
            choice(
                "schedule.fake_labels", \.schedule.fakeLabels,
                "Labels of conditional fakes: uniform over the classes, or the real batch's."),
        ] + optimizerKeys("generator", \.generatorOptimizer) + optimizerKeys("discriminator", \.discriminatorOptimizer)
        + [
            integer(
                "training.batch_size", \.training.batchSize, in: 2...65536,
                "The global batch, split evenly over the ranks."),
            integer(
                "training.epochs", \.training.epochs, in: 1...100_000,
                "Passes over the training split (the last partial batch is dropped)."),
            integer(
                "training.max_steps", \.training.maxSteps, in: 0...Int.max,
                "Stop after this many steps in all; 0: no limit."),
            flag(
                "training.reproducible", \.training.reproducible,
                "The same checkpoints, to the bit, on any number of ranks that divides reproducible_chunks (docs/distributed.md)."
            ),
            integer(
                "training.reproducible_chunks", \.training.reproducibleChunks, in: 1...65536,
                "Fixed chunks of the global batch in reproducible mode: a power of two dividing batch_size; the world size must divide it."
            ),
            integer(
                "logging.log_every", \.logging.logEvery, in: 1...1_000_000,
                "Steps between log lines, metrics.jsonl records and TensorBoard scalars."),
            integer(
                "logging.checkpoint_every", \.logging.checkpointEvery, in: 1...100_000,
                "Epochs between checkpoints (one is also written at the end)."),
            integer(
                "logging.keep_checkpoints", \.logging.keepCheckpoints, in: 1...1000,
                "How many step-N checkpoints to keep."),
            integer(
                "logging.grid_samples", \.logging.gridSamples, in: 1...1024, "Fixed-noise samples in each epoch's grid."
            ),
            integer(
                "logging.grid_rows", \.logging.imagesPerRow, in: 1...64,
                "Images per row of the grid (torchvision's make_grid nrow)."),
            flag(
                "logging.evaluate_test_split", \.logging.evaluateTestSplit,
                "Log D's and G's losses on the test split after each epoch."),
            integer(
                "logging.evaluate_every", \.logging.evaluateEvery, in: 0...100_000,
                "Epochs between FID/KID/IS evaluations during training; 0: none."),
            integer(
                "logging.evaluation_samples", \.logging.evaluationSamples, in: 2...1_000_000, "Samples per evaluation."),
            text(
                "logging.classifier", \.logging.classifier,
                "The evaluator's classifier weights (swiftgan train-classifier)."),
            ConfigKey.make(
                "runtime.device", "Where training runs; under mpirun each rank takes a GPU of its own (docs/gpu.md).",
                accepts: "cpu, cuda, cuda:N",
                read: { r, name, c in
                    let text = try r.string(name, default: c.runtime.device.description)
                    do { c.runtime.device = try Device(parsing: text) } catch {
                        throw r.error(name, "'\(text)' is not a device: use cpu, cuda or cuda:N")
                    }
                },
                node: { Yams.Node($0.runtime.device.description, Tag(.str)) }),
            integer(
                "runtime.threads", \.runtime.threads, in: 0...1024,
                "CPU threads per process; 0: all cores for one process, the cores divided among the ranks on a "
                    + "machine under mpirun. Results do not depend on it."),
        ]

    static func optimizerKeys(
        _ network: String, _ settings: WritableKeyPath<TrainingConfig, TrainingConfig.OptimizerSettings>
    ) -> [ConfigKey] {
        let p = "optimizer.\(network)"
        return [
            choice(
                "\(p).kind", settings.appending(path: \.kind), "The \(network)'s optimiser, with PyTorch's update rule."
            ),
            number("\(p).learning_rate", settings.appending(path: \.learningRate), in: 0...10, "Its learning rate."),
            numbers("\(p).betas", settings.appending(path: \.betas), count: 2, each: 0..<1, "Adam's β₁ and β₂."),
            number("\(p).alpha", settings.appending(path: \.alpha), in: 0...1, "RMSprop's smoothing constant."),
            number(
                "\(p).epsilon", settings.appending(path: \.epsilon), in: 0...1,
                "Added to the denominator (Adam, RMSprop)."),
        ]
    }

    // MARK: - Reading, writing, reference

    /// Reads the keys under `prefix` from `reader`, section by section, rejecting keys no entry names.
    static func read(_ reader: ConfigReader, into config: inout TrainingConfig, prefix: [String] = []) throws {
        var sections: [String] = []
        for key in all where key.path.count > prefix.count && Array(key.path.prefix(prefix.count)) == prefix {
            let name = key.path[prefix.count]
            if key.path.count == prefix.count + 1 {
                try key.read(reader, &config)
            } else if !sections.contains(name) {
                sections.append(name)
                if let section = try reader.section(name) { try read(section, into: &config, prefix: prefix + [name]) }
            }
        }
        try reader.finish()
    }

    /// Every key of `config` as a YAML document, in the table's order.
    static func yaml(of config: TrainingConfig) -> String {
        func mapping(_ prefix: [String]) -> Yams.Node {
            var pairs: [(Yams.Node, Yams.Node)] = []
            var sections: [String] = []
            for key in all where key.path.count > prefix.count && Array(key.path.prefix(prefix.count)) == prefix {
                let name = key.path[prefix.count]
                if key.path.count == prefix.count + 1 {
                    pairs.append((Yams.Node(name), key.node(config)))
                } else if !sections.contains(name) {
                    sections.append(name)
                    pairs.append((Yams.Node(name), mapping(prefix + [name])))
                }
            }
            return Yams.Node.mapping(Yams.Node.Mapping(pairs))
        }
        // Emitting a tree of scalars, flow lists and mappings cannot fail.
        return try! Yams.serialize(node: mapping([]), sortKeys: false)
    }

    /// The Markdown reference of every key: its default, what it accepts, what it means.
    static var reference: String {
        let defaults = TrainingConfig()
        let rows = all.map { key -> String in
            let value =
                (try? Yams.serialize(node: key.node(defaults)))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let shown = value.isEmpty || value == "''" ? "(empty)" : "`\(value)`"
            return "| `\(key.path.joined(separator: "."))` | \(shown) | \(key.accepts) | \(key.documentation) |"
        }
        return (["| key | default | accepts | meaning |", "|---|---|---|---|"] + rows).joined(separator: "\n") + "\n"
    }
}

extension TrainingConfig {
    /// Keys a resumed run may change: how long it trains, what it logs, where its data and device are.
    public static let keysSafeToChangeOnResume = [
        "name", "data.directory", "data.cache", "data.strict", "training.epochs", "training.max_steps", "logging.*",
        "runtime.device",
        "runtime.threads",
    ]

    /// The keys whose values differ from `stored`'s and would change the run if it continued (everything but
    /// `keysSafeToChangeOnResume`), as `key (old → new)`.
    public func changesToTheRun(from stored: TrainingConfig) -> [String] {
        func text(_ node: Yams.Node) -> String {
            ((try? Yams.serialize(node: node)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ConfigKey.all.compactMap { key in
            let path = key.path.joined(separator: ".")
            let safe = Self.keysSafeToChangeOnResume.contains {
                $0.hasSuffix(".*") ? path.hasPrefix(String($0.dropLast())) : $0 == path
            }
            let (old, new) = (text(key.node(stored)), text(key.node(self)))
            return safe || old == new ? nil : "\(path) (\(old) → \(new))"
        }
    }

    /// The Markdown table of every config key (what `swiftgan config-keys` prints and docs/configuration.md holds).
    public static var keyReference: String { ConfigKey.reference }
}
