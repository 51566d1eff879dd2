import Foundation
import GAN
import TestSupport
import XCTest

/// Sample quality on real data: the `gan` config trained for one epoch on the full MNIST training set must
/// produce digits that a classifier trained by the engine recognises, sharply and across the classes.
final class QualityTests: XCTestCase {
    func testOneEpochOfGANOnMNISTMakesRecognisableDigits() throws {
        let train = try ImageDataset.load(directory: Prerequisites.fullMNIST(), split: .train, imageSize: 28)
        let test = try ImageDataset.load(directory: Prerequisites.fullMNIST(), split: .test, imageSize: 28)
        let judge = DigitClassifier()
        try judge.train(on: train)
        let accuracy = try judge.accuracy(on: test)
        XCTAssertGreaterThan(accuracy, 0.96, "the judge itself (measured 0.972)")

        let seed = ProcessInfo.processInfo.environment["SWIFTGAN_QUALITY_SEED"] ?? "0"
        let config = try TrainingConfig.load(
            Repository.config("gan"),
            overrides: ["training.epochs=1", "logging.evaluate_test_split=false", "seed=\(seed)"])
        let trainer = try Trainer(config: config, dataset: train)
        let before = try judge.scores(trainer.fixedSamples(count: 1000).images)
        try trainer.run()
        let after = try judge.scores(trainer.fixedSamples(count: 1000).images)
        let real = try judge.scores(test.subset(0..<1000).batch(0..<1000, range: .symmetric).images)
        print(
            String(
                format:
                    "quality: judge accuracy %.4f; classifier IS real %.2f, untrained %.2f, after one epoch %.2f; confidence %.3f / %.3f / %.3f",
                accuracy, real.inceptionScore, before.inceptionScore, after.inceptionScore, real.confidence,
                before.confidence, after.confidence))
        print("quality: class shares after one epoch \(after.classShares.map { String(format: "%.3f", $0) })")
        XCTAssertGreaterThan(after.inceptionScore, QualityTests.inceptionScoreBound)
        XCTAssertGreaterThan(after.confidence, QualityTests.confidenceBound)
        XCTAssertGreaterThanOrEqual(
            after.classShares.filter { $0 >= 0.03 }.count, 6, "mode collapse: \(after.classShares)")
    }

    // Chosen from measurements (README, "Sample quality"). After one epoch, seeds 0, 1 and 2 reached a
    // classifier IS of 4.06, 3.17, 3.93 and a confidence of 0.76, 0.66, 0.77, with 8, 7 and 7 classes at 3% or
    // more; the untrained generator scores 1.00 and 0.11, real test digits 9.01 and 0.97. The bounds sit
    // below every measured run and far above an untrained or collapsed generator.
    // (SWIFTGAN_QUALITY_SEED=N runs the test with another seed, to measure the spread again.)
    static let inceptionScoreBound = 2.5
    static let confidenceBound = 0.55
}
