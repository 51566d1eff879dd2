import Foundation
import GAN
import TestSupport
import XCTest

/// Every file reader against mutants of valid files (issue 14): bytes flipped, runs deleted, duplicated or
/// overwritten with extreme values, files truncated. Each mutant must be read or refused with an error;
/// a crash ends the test process and fails the run. Seeded, so a failure repeats; `Launch/test` runs a
/// bounded number per reader and `SWIFTGAN_FUZZ_ITERATIONS=N` runs more.
final class FuzzTests: XCTestCase {
    var directory: URL!
    override func setUpWithError() throws { directory = try Repository.scratchDirectory("fuzz") }
    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    var iterations: Int { Int(ProcessInfo.processInfo.environment["SWIFTGAN_FUZZ_ITERATIONS"] ?? "") ?? 300 }

    /// The seeded mutator: one to four edits of the kinds above.
    func mutants(of seed: Data, key: UInt64) -> [Data] {
        let random = RandomGenerator(seed: 0xF022, stream: key)
        let extremes: [[UInt8]] = [
            [0], [0xFF], [0xFF, 0xFF, 0xFF, 0x7F], [0, 0, 0, 0x80], Array("-1".utf8), Array("[[[[".utf8),
            Array("{".utf8),
        ]
        return (0..<iterations).map { _ in
            var bytes = [UInt8](seed)
            for _ in 0...random.integer(below: 4) where !bytes.isEmpty {
                let at = random.integer(below: bytes.count)
                switch random.integer(below: 5) {
                case 0: bytes[at] ^= UInt8(1 << random.integer(below: 8))
                case 1: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.integer(below: 16)))
                case 2:
                    bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 1 + random.integer(below: 16))], at: at)
                case 3:
                    let run = extremes[random.integer(below: extremes.count)]
                    for (offset, byte) in run.enumerated() where at + offset < bytes.count { bytes[at + offset] = byte }
                default: bytes.removeSubrange(at...)
                }
            }
            return Data(bytes)
        }
    }

    /// Feeds every mutant of `seed` to `read` (through a file at `url`); counts the ones it accepted.
    func fuzz(_ name: String, seed: Data, key: UInt64, _ read: (URL) throws -> Void) throws -> Int {
        let url = directory.appendingPathComponent(name)
        var accepted = 0
        for mutant in mutants(of: seed, key: key) {
            try mutant.write(to: url)
            do {
                try read(url)
                accepted += 1
            } catch {}
        }
        return accepted
    }

    func testConfigReaderSurvivesMutants() throws {
        let seed = try Data(contentsOf: Repository.config("wgan-gp"))
        let accepted = try fuzz("config.yaml", seed: seed, key: 1) { _ = try TrainingConfig.load($0) }
        XCTAssertLessThan(accepted, iterations, "the mutator changes what matters")
    }

    func testIDXReaderSurvivesMutants() throws {
        let source = Repository.shippedData.appendingPathComponent("t10k-labels-idx1-ubyte.gz")
        let gzipped = try Data(contentsOf: source)
        _ = try fuzz("labels.gz", seed: gzipped, key: 2) { _ = try IDXFile.read($0) }
        // Raw (not gzipped): the header's dimensions against the file's length.
        let raw = Data([0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 2] + [UInt8](repeating: 7, count: 16))
        _ = try fuzz("images-idx3-ubyte", seed: raw, key: 3) { _ = try IDXFile.read($0) }
    }

    func testSafeTensorsReaderSurvivesMutants() throws {
        var state = StateDict()
        state["a.weight"] = StateTensor(shape: [2, 3], values: .float32([1, 2, 3, 4, 5, 6]))
        state["a.count"] = StateTensor(shape: [], values: .int64([7]))
        let seed = try SafeTensors.encode(SafeTensors.File(tensors: state, metadata: ["step": "3"]))
        _ = try fuzz("x.safetensors", seed: seed, key: 4) { _ = try SafeTensors.read($0) }
        _ = try fuzz("checkpoint.safetensors", seed: seed, key: 5) { _ = try Checkpoint.read($0) }
    }

    /// A shape whose byte size overflows (the mutator rarely builds one): an error, not a crash or a pass.
    func testOverflowingShapesAreErrors() throws {
        let header = #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#
        var data = Data(withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) })
        data += Data(header.utf8)
        XCTAssertThrowsError(try SafeTensors.decode(data)) { XCTAssertTrue("\($0)".contains("does not fill"), "\($0)") }
        XCTAssertNil(byteCount(of: [1 << 62, 4], width: 4))
        XCTAssertNil(byteCount(of: [3, -1], width: 4))
        XCTAssertEqual(byteCount(of: [2, 3], width: 4), 24)
    }

    /// A gzip bomb: a header promising 16 values before 64 MiB of zeros. Inflating stops at what the
    /// header describes (within one 1 MiB chunk) and the file is refused.
    func testAnIDXFileLongerThanItsHeaderIsRefusedEarly() throws {
        let raw = directory.appendingPathComponent("bomb-idx3-ubyte")
        try (Data([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4]) + Data(count: 64 << 20)).write(to: raw)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-n", raw.path]
        try gzip.run()
        gzip.waitUntilExit()
        XCTAssertThrowsError(try IDXFile.read(URL(fileURLWithPath: raw.path + ".gz"))) {
            XCTAssertTrue("\($0)".contains("inflates to more than the 32 bytes its header describes"), "\($0)")
        }
    }

    func testNumpyReaderSurvivesMutants() throws {
        let seed = NumpyFile.encode(.float32((0..<24).map(Float.init)), shape: [2, 3, 4])
        _ = try fuzz("x.npy", seed: seed, key: 6) { _ = try NumpyFile.readFloats($0) }
        let labels = NumpyFile.encode(.int64([1, 2, 3]), shape: [3])
        _ = try fuzz("y.npy", seed: labels, key: 7) { _ = try NumpyFile.readIntegers($0) }
    }

    func testEventFileReaderSurvivesMutants() throws {
        let folder = directory.appendingPathComponent("events")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let writer = try TensorBoardWriter(directory: folder)
        try writer.scalars([("loss/d", 0.5), ("loss/g", 1.5)], step: 1)
        try writer.flush()
        let file = try FileManager.default.contentsOfDirectory(
            at: directory.appendingPathComponent("events"), includingPropertiesForKeys: nil)[0]
        _ = try fuzz("events.out.tfevents.x", seed: try Data(contentsOf: file), key: 8) {
            _ = try EventFileReader.read($0)
        }
    }
}
