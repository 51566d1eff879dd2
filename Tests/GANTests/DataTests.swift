import Foundation
import TestSupport
import XCTest

@testable import GAN

final class DataTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try Repository.scratchDirectory("data") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// An IDX file of unsigned bytes with the given dimensions.
    func idx(_ dimensions: [Int], values: [UInt8]? = nil, magicType: UInt8 = 0x08) -> Data {
        var data = Data([0, 0, magicType, UInt8(dimensions.count)])
        for d in dimensions { data.append(contentsOf: withUnsafeBytes(of: UInt32(d).bigEndian) { Array($0) }) }
        data.append(contentsOf: values ?? (0..<dimensions.reduce(1, *)).map { UInt8($0 % 256) })
        return data
    }

    func gzip(_ data: Data) throws -> Data {
        let raw = directory.appendingPathComponent("raw-\(UUID().uuidString)")
        try data.write(to: raw)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-n", raw.path]
        try process.run()
        process.waitUntilExit()
        return try Data(contentsOf: raw.appendingPathExtension("gz"))
    }

    func testReadsRawAndGzippedFiles() throws {
        let data = idx([3, 2, 2])
        try data.write(to: directory.appendingPathComponent("a.idx"))
        try gzip(data).write(to: directory.appendingPathComponent("a.idx.gz"))
        for name in ["a.idx", "a.idx.gz"] {
            let file = try IDXFile.read(directory.appendingPathComponent(name))
            XCTAssertEqual(file.dimensions, [3, 2, 2])
            XCTAssertEqual(file.values, (0..<12).map(UInt8.init))
        }
    }

    func testBadFilesAreErrorsNamingTheFile() throws {
        let good = idx([4, 2, 2])
        let cases: [(String, Data, String)] = [
            ("truncated", good.prefix(good.count - 3), "truncated"),
            ("wrong magic", Data([1, 0]) + good.dropFirst(2), "magic"),
            ("float values", idx([2], magicType: 0x0D), "value type"),
            ("extra bytes", good + Data([7]), "need 16 values"),
            ("short header", Data([0, 0, 8]), "too short"),
        ]
        for (name, data, expected) in cases {
            let url = directory.appendingPathComponent("\(name).idx")
            try data.write(to: url)
            XCTAssertThrowsError(try IDXFile.read(url), name) { error in
                XCTAssertTrue("\(error)".contains(url.path), "\(name): \(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(name): \(error)")
            }
        }
        let damaged = directory.appendingPathComponent("damaged.idx.gz")
        try gzip(good).prefix(20).write(to: damaged)
        XCTAssertThrowsError(try IDXFile.read(damaged)) { XCTAssertTrue("\($0)".contains("gzip")) }
    }

    func testShippedTestSplitLoadsAndScales() throws {
        let digits = try ImageDataset.load(directory: Repository.shippedData, split: .test, imageSize: 28)
        XCTAssertEqual(digits.count, 10_000)
        XCTAssertEqual(Set(digits.labels), Set(0...9))
        XCTAssertEqual(Array(digits.labels.prefix(5)), [7, 2, 1, 0, 4])  // MNIST's first test labels
        let (images, labels) = digits.batch([0, 1], range: .symmetric)
        XCTAssertEqual(images.shape, [2, 1, 28, 28])
        XCTAssertEqual(labels, [7, 2])
        XCTAssertEqual(images.scalars.min(), -1)
        XCTAssertEqual(images.scalars.max(), 1)
        let unit = digits.batch([0], range: .unit).images.scalars
        XCTAssertEqual(unit.min(), 0)
        XCTAssertEqual(unit.max(), 1)
    }

    func testBilinearResizeKeepsConstantsAndCentres() throws {
        let flat = [UInt8](repeating: 100, count: 28 * 28)
        XCTAssertEqual(Set(ImageDataset.resizeBilinear(flat, count: 1, from: 28, to: 32)), [100])
        // A vertical edge stays an edge, softened over at most two pixels.
        let edge = (0..<(28 * 28)).map { $0 % 28 < 14 ? UInt8(0) : 255 }
        let row = Array(ImageDataset.resizeBilinear(edge, count: 1, from: 28, to: 64)[(10 * 64)..<(11 * 64)])
        XCTAssertEqual(row.prefix(30).max(), 0)
        XCTAssertEqual(row.suffix(30).min(), 255)
        let resized = try ImageDataset.load(directory: Repository.shippedData, split: .test, imageSize: 32)
        XCTAssertEqual(resized.batch([0], range: .unit).images.shape, [1, 1, 32, 32])
    }

    func testEpochOrderIsAPermutationFixedBySeedAndEpoch() {
        let random = SampleRandom(seed: 3)
        let order = random.permutation(count: 1000, epoch: 0)
        XCTAssertEqual(order.sorted(), Array(0..<1000))
        XCTAssertEqual(order, random.permutation(count: 1000, epoch: 0))
        XCTAssertNotEqual(order, random.permutation(count: 1000, epoch: 1))
        XCTAssertNotEqual(order, SampleRandom(seed: 4).permutation(count: 1000, epoch: 0))
    }

    func testNoiseOfASampleDoesNotDependOnTheBatchItIsIn() {
        let random = SampleRandom(seed: 9)
        let whole = random.noise(.noise, step: 5, samples: 0..<8, size: 100)
        let half = random.noise(.noise, step: 5, samples: 4..<8, size: 100)
        XCTAssertEqual(Array(whole.scalars[400...]), half.scalars)
        let values = whole.scalars.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        XCTAssertEqual(mean, 0, accuracy: 0.15)
        XCTAssertNotEqual(whole.scalars, random.noise(.noise, step: 6, samples: 0..<8, size: 100).scalars)
    }

    func testNumpyRoundTrip() throws {
        let url = directory.appendingPathComponent("z.npy")
        try NumpyFile.write(.float32([1, 2, 3, 4, 5, 6]), shape: [2, 3], to: url)
        let (values, shape) = try NumpyFile.readFloats(url)
        XCTAssertEqual(values, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(shape, [2, 3])
        let bytes = try Data(contentsOf: url)
        XCTAssertEqual((bytes.count - 24) % 64, 0, "the header pads the data to 64 bytes")
    }
}

extension DataTests {
    func testFakeLabelsAndIntegersAreUniform() {
        let random = SampleRandom(seed: 1)
        var counts = [Int](repeating: 0, count: 10)
        for sample in 0..<10_000 { counts[random.label(.fakeLabels, step: 0, sample: sample, classes: 10)] += 1 }
        XCTAssertTrue(counts.allSatisfy { (900...1100).contains($0) }, "\(counts)")
        let generator = RandomGenerator(seed: 2)
        var seen = Set<Int>()
        for _ in 0..<1000 { seen.insert(generator.integer(below: 7)) }
        XCTAssertEqual(seen, Set(0..<7))
    }
}
