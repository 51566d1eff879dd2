import Foundation
import GAN
import TestSupport
import XCTest

/// The evaluator's judge and its measures on real data (the full MNIST in ../shared/data/mnist).
final class EvaluatorTests: XCTestCase {
    static let classifierURL = Repository.root.appendingPathComponent("Data/classifiers/mnist-lenet.safetensors")

    func testTheCommittedClassifierReachesNinetyNinePercent() throws {
        let judge = try DigitClassifier.load(Self.classifierURL)
        let test = try ImageDataset.load(directory: Prerequisites.fullMNIST(), split: .test, imageSize: 28)
        XCTAssertGreaterThanOrEqual(try judge.accuracy(on: test), 0.99)
    }

    /// Real training digits score like real digits; noise scores far worse; the test digits against themselves
    /// have FID 0.
    func testRealDigitsScoreWellAndNoiseBadly() throws {
        let judge = try DigitClassifier.load(Self.classifierURL)
        let test = try ImageDataset.load(directory: Prerequisites.fullMNIST(), split: .test, imageSize: 28)
        let train = try ImageDataset.load(directory: Prerequisites.fullMNIST(), split: .train, imageSize: 28)
        let evaluator = try Evaluator(classifier: judge, reference: test)
        let real = try evaluator.evaluate(
            samples: train.batch(0..<2000, range: .symmetric).images, labels: Array(train.labels.prefix(2000)))
        let noise = Tensor(uninitialized: [2000, 1, 28, 28])
        RandomGenerator(seed: 1).fillUniform(noise, -1, 1)
        let bad = try evaluator.evaluate(samples: noise, labels: nil)
        print("evaluator: real training digits \(real.json); uniform noise \(bad.json)")
        XCTAssertGreaterThan(real.labelAccuracy ?? 0, 0.98)
        XCTAssertGreaterThan(real.inceptionScore, 9)
        XCTAssertGreaterThan(bad.fid, 20 * real.fid)
        XCTAssertLessThan(bad.inceptionScore, 3)
        XCTAssertEqual(real.classShares.reduce(0, +), 1, accuracy: 1e-9)
        let itself = try evaluator.evaluate(samples: test.batch(0..<test.count, range: .symmetric).images, labels: nil)
        XCTAssertEqual(itself.fid, 0, accuracy: 1e-3)
    }
}
