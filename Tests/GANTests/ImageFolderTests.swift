import Foundation
import GAN
import TestSupport
import XCTest

/// Image folders (issue 12): PNG and JPEG decoding and torchvision's preprocessing against Pillow, class
/// subfolders as labels, the decoded cache's reuse and invalidation, decoding shared by 2 ranks, training
/// on grey and RGB images, and bad folders as clear errors.
final class ImageFolderTests: XCTestCase {
    var directory: URL!
    var folder: URL { directory.appendingPathComponent("images") }
    var cache: URL { directory.appendingPathComponent("cache") }

    override func setUpWithError() throws {
        try Prerequisites.python(["numpy", "PIL"])
        directory = try Repository.scratchDirectory("folders")
        _ = try Python.run("Tests/Scripts/image_folder.py", ["make", folder.path])
    }
    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    func config(channels: Int, _ extra: [String] = []) throws -> TrainingConfig {
        try TrainingConfig.parse(
            "model: {architecture: dcgan}\ndata: {image_size: 32}\n", file: "test.yaml",
            overrides: ["data.channels=\(channels)", "data.cache=\(cache.path)", "data.directory=\(folder.path)"]
                + extra)
    }

    func load(channels: Int, _ extra: [String] = []) throws -> DataLocator {
        try DataLocator(config: config(channels: channels, extra))
    }

    /// Every image, decoded by libpng or libjpeg-turbo and converted, resized and cropped, is Pillow's to
    /// ±1 per byte (measured: identical; the margin is for a Pillow built on another libjpeg-turbo), labels from the
    /// sorted class folders.
    func testImagesMatchPillowAndClassFoldersAreLabels() throws {
        for channels in [1, 3] {
            let data = try load(channels: channels)
            XCTAssertEqual(data.training.count, 7, "7 images; the text file left out")
            XCTAssertEqual(data.training.labels, [0, 0, 0, 0, 1, 1, 1], "apples then pears, sorted by path")
            XCTAssertTrue(data.notices.contains { $0.contains("left out 1 file") }, "\(data.notices)")
            let expected = directory.appendingPathComponent("expected-\(channels).npy")
            _ = try Python.run(
                "Tests/Scripts/image_folder.py", ["expect", folder.path, "32", "\(channels)", expected.path])
            let (reference, shape) = try NumpyFile.readFloats(expected)
            XCTAssertEqual(shape, [7, channels, 32, 32])
            let ours = data.training.batch(0..<7, range: .unit).images
            XCTAssertEqual(ours.shape, shape)
            let bytes = ours.scalars.map { ($0 * 255).rounded() }
            let worst = zip(bytes, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1, "\(channels) channel(s): largest byte difference from Pillow")
        }
    }

    /// The first load decodes into the cache and says so; the next reads the cache; a changed folder or
    /// setting decodes again into a file of its own.
    func testTheCacheIsReusedAndInvalidated() throws {
        let decoded = { (data: DataLocator) in data.notices.contains { $0.hasPrefix("decoded ") } }
        XCTAssertTrue(decoded(try load(channels: 3)))
        let again = try load(channels: 3)
        XCTAssertFalse(decoded(again), "the second load reads the cache: \(again.notices)")
        XCTAssertEqual(try cacheFiles().count, 1)
        XCTAssertTrue(decoded(try load(channels: 1)), "another channel count is another cache")
        try Data([0x89, 0x50]).write(to: folder.appendingPathComponent("pears/new.png"))
        let changed = try load(channels: 3)
        XCTAssertTrue(decoded(changed), "a new file changes the fingerprint")
        XCTAssertEqual(changed.training.count, 7, "the damaged new file is skipped")
        XCTAssertTrue(changed.notices.contains { $0.contains("skipped 1 unreadable") }, "\(changed.notices)")
        XCTAssertEqual(try cacheFiles().count, 3)
        XCTAssertEqual(
            try load(channels: 3).training.batch(0..<7, range: .unit).images.scalars,
            changed.training.batch(0..<7, range: .unit).images.scalars, "the cached images are the decoded ones")
    }

    func cacheFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".images") }
    }

    /// data.flip mirrors an image left to right.
    func testFlipMirrorsTheImage() throws {
        let data = try load(channels: 3).training
        let plain = data.batch([4], range: .unit).images.scalars
        let flipped = data.batch([4], range: .unit, flips: [true]).images.scalars
        for row in 0..<(3 * 32) {
            XCTAssertEqual(
                Array(flipped[(row * 32)..<(row * 32 + 32)]), Array(plain[(row * 32)..<(row * 32 + 32)].reversed()))
        }
    }

    /// Bad folders and settings: each a clear error that names the cause.
    func testBadFoldersAreClearErrors() throws {
        func message(_ body: () throws -> Void) -> String {
            do {
                try body()
                return "no error"
            } catch { return "\(error)" }
        }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("plums"), withIntermediateDirectories: true)
        XCTAssertTrue(message { _ = try load(channels: 1) }.contains("class folder"), "an empty class folder")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("plums"))

        try Data("not a png".utf8).write(to: folder.appendingPathComponent("apples/fake.png"))
        let strict = message { _ = try load(channels: 1, ["data.strict=true"]) }
        XCTAssertTrue(strict.contains("apples/fake.png") && strict.contains("data.strict"), strict)

        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let none = message { _ = try DataLocator(config: try config(channels: 1, ["data.directory=\(empty.path)"])) }
        XCTAssertTrue(none.contains("holds no images"), none)

        let flat = directory.appendingPathComponent("flat")
        try FileManager.default.createDirectory(at: flat, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: folder.appendingPathComponent("apples/rgb.png"), to: flat.appendingPathComponent("one.png"))
        let unlabelled = message {
            _ = try DataLocator(
                config: try TrainingConfig.parse(
                    "model: {architecture: sngan, classes: 10}\nloss: {kind: hinge}\n", file: "c.yaml",
                    overrides: ["data.directory=\(flat.path)", "data.cache=\(cache.path)"]))
        }
        XCTAssertTrue(unlabelled.contains("no class subfolders"), unlabelled)

        let grey = message {
            _ = try TrainingConfig.parse("model: {architecture: gan}\n", file: "g.yaml", overrides: ["data.channels=3"])
        }
        XCTAssertTrue(grey.contains("data.channels"), grey)
    }

    /// Two ranks share the first decoding (each its own contiguous share) and make the cache file one rank
    /// makes, byte for byte; then a short run trains on grey and on RGB images and draws grids of the same
    /// kind (PNG colour type 0 and 2).
    func testTwoRanksDecodeOneCacheAndTrainingRunsOnGreyAndRGB() throws {
        let binary = try Prerequisites.releaseBinary()
        func train(_ ranks: Int, channels: Int, cache: URL, run: String) throws -> URL {
            let runDirectory = directory.appendingPathComponent(run)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                (ranks > 1 ? MPIJob.launcher(ranks: ranks) : []) + [
                    binary.path, "train", "--config", "Configs/dcgan.yaml", "--data", folder.path, "--quiet",
                    "--run-dir", runDirectory.path, "--max-steps", "2", "--set", "training.batch_size=4",
                    "--set", "data.channels=\(channels)", "--set", "data.cache=\(cache.path)",
                    "--set", "logging.evaluate_test_split=false", "--set", "data.flip=true",
                ]
            process.currentDirectoryURL = Repository.root
            process.environment = MPIJob.environment
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "\(ranks) rank(s), \(channels) channel(s): \(text)")
            return runDirectory
        }
        let (one, two) = (directory.appendingPathComponent("cache-1"), directory.appendingPathComponent("cache-2"))
        _ = try train(1, channels: 3, cache: one, run: "rgb-1")
        let rgb = try train(2, channels: 3, cache: two, run: "rgb-2")
        let files = try [one, two].map {
            try FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: nil)
        }
        XCTAssertEqual(files.map(\.count), [1, 1], "one finished cache file each, no partial one")
        XCTAssertEqual(try Data(contentsOf: files[0][0]), try Data(contentsOf: files[1][0]))
        let grey = try train(1, channels: 1, cache: one, run: "grey")
        for (run, colourType) in [(rgb, 2), (grey, 0)] {
            let png = try Data(contentsOf: run.appendingPathComponent("images/epoch-0001.png"))
            XCTAssertEqual(Int(png[25]), colourType, "\(run.lastPathComponent): IHDR colour type")
        }
    }
}
