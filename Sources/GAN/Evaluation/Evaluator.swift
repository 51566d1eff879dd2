import Distributed
import Foundation
import NN

/// Scores a generator the way MNIST GAN work reports it: FID and KID on a digit classifier's penultimate
/// features against the test digits, the classifier's Inception Score, the class histogram, and for
/// conditional models the share of samples classified as the label they were asked for.
public struct Evaluator {
    public struct Report {
        public var count: Int
        public var fid: Double
        public var kid: Double
        public var inceptionScore: Double
        public var classShares: [Double]
        public var labelAccuracy: Double?

        public init(
            count: Int, fid: Double, kid: Double, inceptionScore: Double, classShares: [Double], labelAccuracy: Double?
        ) {
            (self.count, self.fid, self.kid, self.inceptionScore) = (count, fid, kid, inceptionScore)
            (self.classShares, self.labelAccuracy) = (classShares, labelAccuracy)
        }

        public var json: String {
            // JSON has no NaN or infinity: a value that is not finite is written as null.
            func number(_ value: Double, _ format: String) -> String {
                value.isFinite ? String(format: format, value) : "null"
            }
            var fields = [
                "\"samples\": \(count)", "\"fid\": " + number(fid, "%.4f"), "\"kid\": " + number(kid, "%.6f"),
                "\"inception_score\": " + number(inceptionScore, "%.4f"),
                "\"class_histogram\": [" + classShares.map { number($0, "%.4f") }.joined(separator: ", ") + "]",
            ]
            if let labelAccuracy { fields.append("\"label_accuracy\": " + number(labelAccuracy, "%.4f")) }
            return "{" + fields.joined(separator: ", ") + "}"
        }
    }

    public let classifier: DigitClassifier
    /// Features of the reference images (the test digits): `(M, F)` rows.
    public let referenceFeatures: [[Double]]

    public init(
        classifier: DigitClassifier, reference: ImageDataset, communicator: Communicator = LocalCommunicator()
    ) throws {
        self.classifier = classifier
        let (features, _) = try Self.describe(
            count: reference.count, communicator: communicator, classifier: classifier
        ) { range in
            reference.batch(range, range: .symmetric).images
        }
        referenceFeatures = features
    }

    /// Features and class probabilities of `count` images made by `images(range)`, shared out over the ranks
    /// and gathered on every rank.
    static func describe(
        count: Int, communicator: Communicator, classifier: DigitClassifier, _ images: (Range<Int>) throws -> Tensor
    )
        throws -> (features: [[Double]], probabilities: [[Double]])
    {
        let batch = 500
        var width = 0
        var featureBuffer: [Float] = [], probabilityBuffer = [Float](repeating: 0, count: count * 10)
        for start in stride(from: 0, to: count, by: batch)
        where (start / batch) % communicator.size == communicator.rank {
            let range = start..<min(start + batch, count)
            let x = try images(range)
            let f = try classifier.featureVectors(x), p = try classifier.probabilities(x)
            if width == 0 {
                width = f.shape[1]
                featureBuffer = [Float](repeating: 0, count: count * width)
            }
            for (row, index) in range.enumerated() {
                for j in 0..<width { featureBuffer[index * width + j] = f.pointer[row * width + j] }
                for j in 0..<10 { probabilityBuffer[index * 10 + j] = p.pointer[row * 10 + j] }
            }
        }
        // Every rank fills its own rows; a sum over ranks assembles the whole.
        let globalWidth = Int(try communicator.allreduceMax(Double(width)))
        if featureBuffer.isEmpty { featureBuffer = [Float](repeating: 0, count: count * globalWidth) }
        try featureBuffer.withUnsafeMutableBufferPointer {
            try communicator.allreduceSum($0.baseAddress!, count: $0.count)
        }
        try probabilityBuffer.withUnsafeMutableBufferPointer {
            try communicator.allreduceSum($0.baseAddress!, count: $0.count)
        }
        let features = (0..<count).map { i in (0..<globalWidth).map { Double(featureBuffer[i * globalWidth + $0]) } }
        let probabilities = (0..<count).map { i in (0..<10).map { Double(probabilityBuffer[i * 10 + $0]) } }
        return (features, probabilities)
    }

    /// Scores `count` samples of `generator` (evaluation mode, noise from `seed`).
    public func evaluate(
        generator: GANNetwork, config: TrainingConfig, count: Int, seed: UInt64 = 0,
        communicator: Communicator = LocalCommunicator()
    ) throws -> Report {
        let wasTraining = generator.isTraining
        generator.eval()
        defer { generator.setTraining(wasTraining) }
        let classes = config.model.classes
        let random = SampleRandom(seed: seed)
        let (features, probabilities) = try Self.describe(
            count: count, communicator: communicator, classifier: classifier
        ) { range in
            let z = try random.noise(
                .fixedNoise, step: SampleRandom.Key.evaluation, samples: range, size: config.model.noiseSize
            ).to(generator.device)
            let labels = classes > 0 ? range.map { $0 % classes } : nil
            let samples = try GradientMode.withoutGradients { try generator.forward(z, labels: labels) }
            return Self.classifierInput(try samples.to(.cpu), range: config.data.range)
        }
        return report(
            features: features, probabilities: probabilities,
            askedLabels: classes > 0 ? (0..<count).map { $0 % classes } : nil)
    }

    /// Samples that cannot be scored: the reason, in one line.
    public struct InvalidSamples: Error, CustomStringConvertible {
        public let description: String
    }

    /// Scores given samples `(N, 1, H, H)` in [−1, 1], with the labels they were asked for (0...9), if any.
    public func evaluate(
        samples: Tensor, labels: [Int]?, communicator: Communicator = LocalCommunicator()
    ) throws -> Report {
        let shape = samples.shape
        guard shape.count == 4, shape[1] == 1, shape[2] == shape[3], shape[2] >= 8 else {
            throw InvalidSamples(
                description: "samples: expected square images [N, 1, H, H] with H at least 8, got \(shape)")
        }
        guard shape[0] >= 2 else {
            throw InvalidSamples(description: "samples: FID needs at least 2 samples, got \(shape[0])")
        }
        let values = samples.scalars  // once: the chunks below are cut from it
        if let bad = values.first(where: { !$0.isFinite }) {
            throw InvalidSamples(description: "samples: they hold \(bad); samples must be finite numbers in [-1, 1]")
        }
        if let labels, labels.count != shape[0] || labels.contains(where: { !(0..<10).contains($0) }) {
            throw InvalidSamples(
                description: "labels: expected \(shape[0]) labels in 0...9, got \(labels.count)"
                    + (labels.first(where: { !(0..<10).contains($0) }).map { " (one is \($0))" } ?? ""))
        }
        let width = samples.count / shape[0]
        let (features, probabilities) = try Self.describe(
            count: shape[0], communicator: communicator, classifier: classifier
        ) { range in
            let part = try Tensor(
                Array(values[(range.lowerBound * width)..<(range.upperBound * width)]),
                shape: [range.count] + Array(shape.dropFirst()))
            return Self.classifierInput(part, range: .symmetric)
        }
        return report(features: features, probabilities: probabilities, askedLabels: labels)
    }

    func report(features: [[Double]], probabilities: [[Double]], askedLabels: [Int]?) -> Report {
        let (score, shares) = SampleQuality.inceptionScore(probabilities)
        let correct = askedLabels.map { asked in
            probabilities.indices.filter { i in
                probabilities[i].indices.max { probabilities[i][$0] < probabilities[i][$1] } == asked[i]
            }.count
        }
        return Report(
            count: probabilities.count, fid: SampleQuality.frechetDistance(features, referenceFeatures),
            kid: SampleQuality.kernelDistance(features, referenceFeatures), inceptionScore: score, classShares: shares,
            labelAccuracy: correct.map { Double($0) / Double(probabilities.count) })
    }

    /// Samples as the classifier reads them: 28×28 (bilinear, as the dataset resizes) in [−1, 1].
    static func classifierInput(_ samples: Tensor, range: ImageDataset.ValueRange) -> Tensor {
        let (n, side) = (samples.shape[0], samples.shape[2])
        let out = Tensor(uninitialized: [n, 1, 28, 28])
        let taps = BilinearTaps(from: side, to: 28)
        for i in 0..<n {
            let source = samples.pointer + i * side * side, target = out.pointer + i * 784
            for y in 0..<28 {
                for x in 0..<28 {
                    let v = Float(taps.sample(y, x) { Double(source[$0 * side + $1]) })
                    target[y * 28 + x] = range == .unit ? 2 * v - 1 : v
                }
            }
        }
        return out
    }
}
