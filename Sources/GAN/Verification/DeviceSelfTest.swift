import Foundation
import NN

/// Runs the same computations on the CPU and on another device from the same state and compares them: every
/// operation's forward pass and input gradients, the gradient penalty's second-order gradient, every
/// config's networks (forward and backward, training and evaluation mode), and training steps of every config.
/// `swiftgan self-test --device cuda` prints it; the GPU test suite asserts it.
///
/// How it measures: an error is max |device − cpu| over a tensor divided by max |cpu| over it (a relative
/// error at the tensor's scale), so values near zero are not judged alone. Training is measured as the
/// distributed tests measure rank counts: the first step from one state per tensor, and the update of the
/// 20th step from the CPU run's state after 19 (‖Δdevice − Δcpu‖ / ‖Δcpu‖ per network), with SGD at the
/// config's rates, since Adam's first steps move a parameter by about ±lr whatever its gradient, turning
/// rounding-level gradients (the biases in front of batch norm) into full steps.
public enum DeviceSelfTest {
    public struct Check: CustomStringConvertible {
        public let name: String
        public let error: Double
        public let tolerance: Double
        public var passed: Bool { error <= tolerance }  // NaN fails

        public init(name: String, error: Double, tolerance: Double) {
            (self.name, self.error, self.tolerance) = (name, error, tolerance)
        }
        public var description: String {
            "\(passed ? "ok  " : "FAIL") \(name): \(String(format: "%.2e", error)) (tolerance \(String(format: "%.0e", tolerance)))"
        }
    }

    /// Every check, each handed to `report` as it finishes; true when all passed.
    public static func run(
        device: Device, configs: [TrainingConfig], steps: Int = 20, report: (Check) -> Void
    ) throws -> Bool {
        var passed = true
        func record(_ check: Check) {
            passed = passed && check.passed
            report(check)
        }
        for check in try operations(device: device) { record(check) }
        for config in configs {
            for check in try networks(config, device: device) { record(check) }
            for check in try training(config, device: device, steps: steps) { record(check) }
        }
        return passed
    }

    /// max |a − b| / max |a|, in Double.
    public static func error(_ expected: [Float], _ actual: [Float]) -> Double {
        guard expected.count == actual.count else { return .infinity }
        var worst = 0.0, scale = 0.0
        for (a, b) in zip(expected, actual) {
            worst = max(worst, abs(Double(a) - Double(b)))
            scale = max(scale, abs(Double(a)))
        }
        if worst.isNaN || actual.contains(where: { $0.isNaN }) { return .nan }
        return worst / max(scale, 1e-30)
    }

    /// ‖Δa − Δb‖ / ‖Δa‖ over all of one network's float tensors, where Δ is a checkpoint's change from `base`:
    /// how far two updates from one state differ, relative to the update.
    public static func updateDifference(
        base: SafeTensors.File, _ a: SafeTensors.File, _ b: SafeTensors.File, network: String
    ) -> Double {
        var difference = 0.0, size = 0.0
        for name in base.tensors.names where name.hasPrefix(network + ".") {
            guard case let .float32(x0)? = base.tensors[name]?.values, case let .float32(x)? = a.tensors[name]?.values,
                case let .float32(y)? = b.tensors[name]?.values
            else { continue }
            for i in x0.indices {
                let (da, db) = (Double(x[i]) - Double(x0[i]), Double(y[i]) - Double(x0[i]))
                difference += (da - db) * (da - db)
                size += da * da
            }
        }
        return (difference / max(size, 1e-300)).squareRoot()
    }

    // MARK: - Operations

    /// Deterministic values in [low, high): the same on every run and device.
    static func values(_ shape: [Int], key: UInt64, low: Float = -1, high: Float = 1) -> [Float] {
        let random = RandomGenerator(seed: 0x5e1f, stream: key)
        return (0..<shape.reduce(1, *)).map { _ in random.uniform(low, high) }
    }

    struct Case {
        let name: String
        let shapes: [[Int]]
        var low: Float = -1, high: Float = 1
        let body: ([Tensor]) throws -> Tensor
    }

    static let cases: [Case] = [
        Case(name: "add", shapes: [[4, 6], [4, 6]]) { try add($0[0], $0[1]) },
        Case(name: "subtract", shapes: [[4, 6], [4, 6]]) { try subtract($0[0], $0[1]) },
        Case(name: "multiply", shapes: [[4, 6], [4, 6]]) { try multiply($0[0], $0[1]) },
        Case(name: "divide", shapes: [[4, 6], [4, 6]], low: 0.5, high: 2) { try divide($0[0], $0[1]) },
        Case(name: "divide by scalar", shapes: [[4, 6], []], low: 0.5, high: 2) { try divide($0[0], byScalar: $0[1]) },
        Case(name: "scale and shift", shapes: [[4, 6]]) { $0[0].scaled(by: 1.5).shifted(by: -0.25) },
        Case(name: "square", shapes: [[4, 6]]) { $0[0].pow(2) },
        Case(name: "power", shapes: [[4, 6]], low: 0.5, high: 2) { $0[0].pow(3) },
        Case(name: "square root", shapes: [[4, 6]], low: 0.5, high: 2) { $0[0].squareRoot() },
        Case(name: "leaky relu", shapes: [[4, 6]]) { $0[0].leakyRelu(slope: 0.2) },
        Case(name: "tanh", shapes: [[4, 6]]) { $0[0].tanh() },
        Case(name: "sigmoid", shapes: [[4, 6]]) { $0[0].sigmoid() },
        Case(name: "matmul", shapes: [[5, 7], [7, 3]]) { try matmul($0[0], $0[1]) },
        Case(name: "matmul transposed", shapes: [[7, 5], [3, 7]]) {
            try matmul($0[0], $0[1], transposeA: true, transposeB: true)
        },
        Case(name: "linear", shapes: [[5, 7], [3, 7], [3]]) { try linear($0[0], $0[1], bias: $0[2]) },
        Case(name: "add channels", shapes: [[2, 3, 4, 4], [3]]) { try addChannels($0[0], $0[1]) },
        Case(name: "multiply channels", shapes: [[2, 3, 4, 4], [3]]) { try multiplyChannels($0[0], $0[1]) },
        Case(name: "sum channels", shapes: [[2, 3, 4, 4]]) { try sumChannels($0[0]) },
        Case(name: "expand channels", shapes: [[3]]) { try expandChannels($0[0], to: [2, 3, 4, 4]) },
        Case(name: "sum", shapes: [[3, 50]]) { try $0[0].sum() },
        Case(name: "sum per sample", shapes: [[3, 2, 5]]) { try $0[0].sumPerSample() },
        Case(name: "expand per sample", shapes: [[3]]) { try $0[0].expandedPerSample(to: [3, 2, 5]) },
        Case(name: "narrow and pad", shapes: [[2, 5, 3]]) {
            try $0[0].narrowed(channels: 1..<4).paddedChannels(before: 2, after: 1)
        },
        Case(name: "concat", shapes: [[2, 3, 4], [2, 2, 4]]) { try concatChannels([$0[0], $0[1]]) },
        Case(name: "conv2d", shapes: [[2, 3, 9, 9], [4, 3, 4, 4]]) { try conv2d($0[0], $0[1], stride: 2, padding: 1) },
        Case(name: "conv2d with bias", shapes: [[2, 3, 9, 9], [4, 3, 4, 4], [4]]) {
            try conv2d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1)
        },
        Case(name: "conv2d covering its input", shapes: [[2, 3, 4, 4], [5, 3, 4, 4]]) { try conv2d($0[0], $0[1]) },
        Case(name: "conv transpose 2d", shapes: [[2, 4, 4, 4], [4, 3, 4, 4]]) {
            try convTranspose2d($0[0], $0[1], stride: 2, padding: 1)
        },
        Case(name: "conv transpose 2d with bias", shapes: [[2, 4, 4, 4], [4, 3, 4, 4], [3]]) {
            try convTranspose2d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1)
        },
        Case(name: "embedding", shapes: [[10, 6]]) { try gatherRows($0[0], indices: [3, 1, 3, 9]) },
        Case(name: "batch norm", shapes: [[6, 3, 4, 4], [3], [3]]) {
            try batchNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5).output
        },
        Case(name: "batch norm with leaky relu", shapes: [[6, 3, 4, 4], [3], [3]]) {
            try batchNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5, activationSlope: 0.2).output
        },
        Case(name: "binary cross-entropy", shapes: [[8, 1]], low: 0.05, high: 0.95) {
            try binaryCrossEntropy($0[0], target: Tensor(repeating: 1, shape: [8, 1], backend: $0[0].backend))
        },
        Case(name: "binary cross-entropy with logits", shapes: [[8, 1]]) {
            try binaryCrossEntropyWithLogits(
                $0[0], target: Tensor(repeating: 0, shape: [8, 1], backend: $0[0].backend))
        },
        Case(name: "softmax cross-entropy", shapes: [[4, 10]]) {
            try softmaxCrossEntropy($0[0], labels: [0, 9, 3, 3])
        },
    ]

    /// Each case's output and the gradient of Σ output·R with respect to each input, on both devices.
    public static func operations(device: Device) throws -> [Check] {
        var checks: [Check] = []
        for (index, item) in cases.enumerated() {
            let hostInputs = try item.shapes.enumerated().map { position, shape in
                try Tensor(
                    values(shape, key: UInt64(index * 16 + position), low: item.low, high: item.high), shape: shape)
            }
            func evaluate(on device: Device) throws -> [[Float]] {
                let inputs = try hostInputs.map { try $0.to(device).copy().requiringGrad() }
                let y = try item.body(inputs)
                let seed = try Tensor(values(y.shape, key: UInt64(index * 16 + 15)), shape: y.shape).to(device)
                let gradients = try grad(of: [y], withRespectTo: inputs, seeds: [seed])
                return [y.scalars] + gradients.map(\.scalars)
            }
            let (expected, actual) = (try evaluate(on: .cpu), try evaluate(on: device))
            for (part, (a, b)) in zip(expected, actual).enumerated() {
                checks.append(
                    Check(
                        name: "operation \(item.name) \(part == 0 ? "forward" : "gradient \(part)")",
                        error: error(a, b), tolerance: 1e-4))
            }
        }
        checks.append(try penalty(device: device))
        return checks
    }

    /// The gradient penalty's gradient with respect to a small conv critic's weights (a second derivative).
    static func penalty(device: Device) throws -> Check {
        func evaluate(on device: Device) throws -> [Float] {
            let critic = Sequential(
                Conv2d(1, 4, kernelSize: 4, stride: 2, padding: 1, generator: RandomGenerator(seed: 3)), LeakyReLU(0.2),
                Flatten(), Linear(64, 1, generator: RandomGenerator(seed: 4)))
            let arena = ParameterArena(critic, backend: try device.backend)
            let x = try Tensor(values([3, 1, 8, 8], key: 900), shape: [3, 1, 8, 8]).to(device)
            try GANLoss.gradientPenalty(critic: { try critic($0) }, interpolates: x).backward()
            return arena.gradients.scalars
        }
        return Check(
            name: "gradient penalty's parameter gradient",
            error: error(try evaluate(on: .cpu), try evaluate(on: device)), tolerance: 1e-4)
    }

    // MARK: - Networks

    /// G forward on fixed noise, D forward on G's output, and every parameter's gradient of Σ D·R, in training
    /// and evaluation mode.
    static func networks(_ config: TrainingConfig, device: Device) throws -> [Check] {
        func evaluate(on device: Device, training: Bool) throws -> [[Float]] {
            var placed = config
            placed.runtime.device = device
            let models = try GANModels(placed)
            let batch = 4
            let random = SampleRandom(seed: 11)
            let z = try random.noise(.noise, step: 0, samples: 0..<batch, size: config.model.noiseSize).to(device)
            let labels = config.model.classes > 0 ? (0..<batch).map { $0 % config.model.classes } : nil
            for network in [models.generator, models.discriminator] { network.setTraining(training) }
            let images = try models.generator.forward(z, labels: labels)
            let scores = try models.discriminator.forward(images, labels: labels)
            let seed = try Tensor(values(scores.shape, key: 77), shape: scores.shape).to(device)
            try multiply(scores, seed).sum().backward()
            return [
                images.scalars, scores.scalars, models.generatorArena.gradients.scalars,
                models.discriminatorArena.gradients.scalars,
            ]
        }
        var checks: [Check] = []
        for training in [true, false] {
            let (expected, actual) = (
                try evaluate(on: .cpu, training: training), try evaluate(on: device, training: training)
            )
            for (part, name) in ["G output", "D output", "G gradients", "D gradients"].enumerated() {
                checks.append(
                    Check(
                        name: "\(config.name) \(training ? "training" : "evaluation") mode \(name)",
                        error: error(expected[part], actual[part]), tolerance: 1e-4))
            }
        }
        return checks
    }

    // MARK: - Training

    static func training(_ config: TrainingConfig, device: Device, steps: Int) throws -> [Check] {
        var sgd = config
        sgd.generatorOptimizer.kind = .sgd
        sgd.discriminatorOptimizer.kind = .sgd
        sgd.logging.evaluateTestSplit = false
        sgd.training.epochs = 1000
        let side = config.data.imageSize, count = config.training.batchSize * 4
        let random = RandomGenerator(seed: 7)
        let data = ImageDataset(
            pixels: (0..<(count * side * side)).map { _ in UInt8(random.integer(below: 256)) },
            labels: (0..<count).map { _ in random.integer(below: 10) }, imageSize: side, source: "synthetic")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftgan-self-test-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }

        /// Trains to `until` steps on `device` (from `checkpoint` when given) and returns the checkpoint file.
        func train(on device: Device, until: Int, from checkpoint: URL? = nil) throws -> (SafeTensors.File, URL) {
            var placed = sgd
            placed.runtime.device = device
            placed.training.maxSteps = until
            let trainer = try Trainer(config: placed, dataset: data, resumingFrom: checkpoint)
            try trainer.run()
            let url = try Checkpoint.save(trainer, in: folder.appendingPathComponent("\(device)-\(until)"), keep: 1)
            return (try SafeTensors.read(url), url)
        }

        var checks: [Check] = []
        let (cpuFirst, _) = try train(on: .cpu, until: 1), (deviceFirst, _) = try train(on: device, until: 1)
        var worst = 0.0
        for name in cpuFirst.tensors.names {
            guard case let .float32(a)? = cpuFirst.tensors[name]?.values,
                case let .float32(b)? = deviceFirst.tensors[name]?.values
            else { continue }
            let e = error(a, b)
            worst = e.isNaN || worst.isNaN ? .nan : max(worst, e)
        }
        checks.append(Check(name: "\(config.name) first training step, every tensor", error: worst, tolerance: 1e-4))

        let (base, baseURL) = try train(on: .cpu, until: steps - 1)
        let (cpuLast, _) = try train(on: .cpu, until: steps, from: baseURL)
        let (deviceLast, _) = try train(on: device, until: steps, from: baseURL)
        for network in ["generator", "discriminator"] {
            checks.append(
                Check(
                    name: "\(config.name) step \(steps) update, \(network)",
                    error: updateDifference(base: base, cpuLast, deviceLast, network: network), tolerance: 1e-4))
        }
        return checks
    }
}
