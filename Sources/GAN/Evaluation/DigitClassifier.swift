import Foundation
import NN

/// A digit classifier trained by SwiftGAN's own engine: the judge of sample quality.
/// - `mlp`: 784 → 512 → 256 → 10 with ReLU; 97.2% test accuracy after three epochs (the quality test's judge).
/// - `lenet`: LeNet-style convolutions with strided convolutions in place of pooling, 128 features before the
///   last layer; the evaluator's judge and feature network (FID, KID); four epochs, the last at a tenth of
///   the learning rate (`swiftgan train-classifier`).
public final class DigitClassifier {
    public enum Architecture: String { case mlp, lenet }

    public let architecture: Architecture
    /// Everything up to the penultimate features: `(N, 1, 28, 28)` → `(N, F)`.
    let features: Sequential
    /// The last layer: `(N, F)` → `(N, 10)` logits.
    let head: Linear
    let network = Module()

    public init(_ architecture: Architecture = .mlp, seed: UInt64 = 0) {
        self.architecture = architecture
        let random = RandomGenerator(seed: seed, stream: 0xC1A5)
        switch architecture {
        case .mlp:
            features = Sequential(
                Flatten(), Linear(784, 512, generator: random), ReLU(), Linear(512, 256, generator: random), ReLU())
            head = Linear(256, 10, generator: random)
        case .lenet:
            features = Sequential(
                Conv2d(1, 32, kernelSize: 5, padding: 2, generator: random), ReLU(),
                Conv2d(32, 32, kernelSize: 5, stride: 2, padding: 2, generator: random), ReLU(),  // 28 → 14
                Conv2d(32, 64, kernelSize: 3, padding: 1, generator: random), ReLU(),
                Conv2d(64, 64, kernelSize: 3, stride: 2, padding: 1, generator: random), ReLU(),  // 14 → 7
                Flatten(), Linear(3136, 128, generator: random), ReLU())
            head = Linear(128, 10, generator: random)
        }
        network.register(features, as: "features")
        network.register(head, as: "head")
    }

    /// The classifier's weights, under `features.*` and `head.*`, with its architecture in the metadata.
    public func save(to url: URL) throws {
        try SafeTensors.write(
            SafeTensors.File(tensors: network.stateDict(), metadata: ["architecture": architecture.rawValue]), to: url)
    }

    public static func load(_ url: URL) throws -> DigitClassifier {
        let file = try SafeTensors.read(url)
        guard let name = file.metadata["architecture"], let architecture = Architecture(rawValue: name) else {
            throw SafeTensors.FormatError.corrupt(path: url.path, reason: "no classifier architecture in the metadata")
        }
        let classifier = DigitClassifier(architecture)
        try classifier.network.loadStateDict(file.tensors)
        classifier.network.eval()
        return classifier
    }

    func logits(_ images: Tensor) throws -> Tensor { try head(features(images)) }

    /// Penultimate features `(N, F)` of images `(N, 1, 28, 28)` in [−1, 1], as FID and KID use them.
    public func featureVectors(_ images: Tensor) throws -> Tensor {
        try GradientMode.withoutGradients { try features(images) }
    }

    /// Adam (1e-3) on softmax cross-entropy, images scaled to [−1, 1] at 28×28; with `finalEpochLearningRate`
    /// the last epoch runs at that rate, which settles the weights (the LeNet judge: 98.9% without, over 99% with).
    public func train(
        on data: ImageDataset, epochs: Int = 3, batchSize: Int = 128, seed: UInt64 = 0,
        finalEpochLearningRate: Float? = nil
    ) throws {
        precondition(data.imageSize == 28, "the classifier reads 28x28 digits")
        let arena = ParameterArena(network)
        precondition(arena.count > 0)
        let adam = Adam(arena, learningRate: 1e-3)
        let order = SampleRandom(seed: seed)
        network.train()
        for epoch in 0..<epochs {
            if epoch == epochs - 1, let finalEpochLearningRate { adam.learningRate = finalEpochLearningRate }
            let permutation = order.permutation(count: data.count, epoch: epoch)
            for start in stride(from: 0, to: data.count - batchSize + 1, by: batchSize) {
                let (images, labels) = data.batch(permutation[start..<(start + batchSize)], range: .symmetric)
                arena.zeroGradients()
                try softmaxCrossEntropy(logits(images), labels: labels).backward()
                adam.step()
            }
        }
        network.eval()
    }

    /// Class probabilities `(N, 10)` for images `(N, 1, 28, 28)` in [−1, 1].
    public func probabilities(_ images: Tensor) throws -> Tensor {
        try GradientMode.withoutGradients { softmax(try logits(images)) }
    }

    /// The share of `data` classified correctly.
    public func accuracy(on data: ImageDataset) throws -> Double {
        var correct = 0
        for start in stride(from: 0, to: data.count, by: 500) {
            let range = start..<min(start + 500, data.count)
            let p = try probabilities(data.batch(range, range: .symmetric).images)
            for (row, index) in range.enumerated() where Self.argmax(p, row: row) == data.labels[index] { correct += 1 }
        }
        return Double(correct) / Double(data.count)
    }

    /// Scores of a set of samples: the classifier's Inception Score exp(E[KL(p(y|x) ‖ p(y))]) (10 for sharp,
    /// evenly spread digits; 1 for noise or a single repeated digit), the mean top-class probability, and
    /// the share of samples in each class.
    public func scores(_ images: Tensor) throws -> (inceptionScore: Double, confidence: Double, classShares: [Double]) {
        let p = try probabilities(images)
        let classes = p.shape[1]
        let rows = (0..<p.shape[0]).map { r in (0..<classes).map { Double(p.pointer[r * classes + $0]) } }
        let (score, shares) = SampleQuality.inceptionScore(rows)
        let confidence = rows.reduce(0) { $0 + ($1.max() ?? 0) } / Double(rows.count)
        return (score, confidence, shares)
    }

    static func argmax(_ p: Tensor, row: Int) -> Int {
        let classes = p.shape[1]
        return (0..<classes).max { p.pointer[row * classes + $0] < p.pointer[row * classes + $1] }!
    }
}
