import Foundation
import NN

/// A small fully connected digit classifier (784 → 512 → 256 → 10, ReLU) trained by SwiftGAN's own engine:
/// the judge of sample quality in the tests. About 96-97% test accuracy after three epochs of MNIST (PyTorch: 96.3% after two).
public final class DigitClassifier {
    let network: Sequential

    public init(seed: UInt64 = 0) {
        let random = RandomGenerator(seed: seed, stream: 0xC1A5)
        network = Sequential(
            Linear(784, 512, generator: random), ReLU(), Linear(512, 256, generator: random), ReLU(), Linear(256, 10, generator: random))
    }

    /// Adam on softmax cross-entropy, images scaled to [−1, 1] at 28×28.
    public func train(on data: ImageDataset, epochs: Int = 3, batchSize: Int = 128, seed: UInt64 = 0) throws {
        precondition(data.imageSize == 28, "the classifier reads 28x28 digits")
        let arena = ParameterArena(network)
        let adam = Adam(arena, learningRate: 1e-3)
        let order = SampleRandom(seed: seed)
        network.train()
        for epoch in 0..<epochs {
            let permutation = order.permutation(count: data.count, epoch: epoch)
            for start in stride(from: 0, to: data.count - batchSize + 1, by: batchSize) {
                let (images, labels) = data.batch(permutation[start..<(start + batchSize)], range: .symmetric)
                arena.zeroGradients()
                try softmaxCrossEntropy(network(images.flattened()), labels: labels).backward()
                adam.step()
            }
        }
        network.eval()
    }

    /// Class probabilities `(N, 10)` for images `(N, 1, 28, 28)` in [−1, 1].
    public func probabilities(_ images: Tensor) throws -> Tensor {
        try GradientMode.withoutGradients { softmax(try network(images.flattened())) }
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
        let (n, classes) = (p.shape[0], p.shape[1])
        var marginal = [Double](repeating: 0, count: classes), shares = marginal
        var confidence = 0.0
        for row in 0..<n {
            for c in 0..<classes { marginal[c] += Double(p.pointer[row * classes + c]) / Double(n) }
            confidence += Double(p.pointer[row * classes + Self.argmax(p, row: row)]) / Double(n)
            shares[Self.argmax(p, row: row)] += 1 / Double(n)
        }
        var kl = 0.0
        for row in 0..<n {
            for c in 0..<classes {
                let q = Double(p.pointer[row * classes + c])
                if q > 0 { kl += q * (Foundation.log(q) - Foundation.log(max(marginal[c], 1e-12))) / Double(n) }
            }
        }
        return (Foundation.exp(kl), confidence, shares)
    }

    static func argmax(_ p: Tensor, row: Int) -> Int {
        let classes = p.shape[1]
        return (0..<classes).max { p.pointer[row * classes + $0] < p.pointer[row * classes + $1] }!
    }
}
