import Foundation
import NN
import TestSupport
import XCTest

final class StateDictTests: XCTestCase {
    func makeModel() -> Sequential {
        Sequential(Linear(3, 4), BatchNorm1d(4), ReLU(), Linear(4, 2))
    }

    func testNamesAndOrderFollowPyTorch() throws {
        let names = makeModel().stateDict().names
        XCTAssertEqual(
            names,
            [
                "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                "3.weight", "3.bias",
            ])
        let sn = try spectralNorm(Conv2d(2, 3, kernelSize: 4))
        XCTAssertEqual(sn.stateDict().names, ["bias", "weight_orig", "weight_u", "weight_v"])
        XCTAssertEqual(sn.stateDict()["weight_v"]?.shape, [32])
    }

    /// `repeatTrainingState()` stands for a second training pass over the same batch: the trainer's
    /// `regenerate` schedule relies on it to keep G's first pass instead of running G again.
    func testRepeatingATrainingPassLeavesTheStateASecondPassWould() throws {
        func network() -> Sequential {
            Sequential(Conv2d(2, 3, kernelSize: 3, padding: 1), BatchNorm2d(3), ReLU(), Flatten())
        }
        let (twice, once, repeated) = (network(), network(), network())
        try once.loadStateDict(twice.stateDict())
        try repeated.loadStateDict(twice.stateDict())
        let x = Tensor(uninitialized: [4, 2, 5, 5])  // (N, C, H, W)
        DefaultGenerator.shared.fillUniform(x, -1, 1)

        let first = try twice(x), second = try twice(x)
        XCTAssertEqual(second.scalars, first.scalars, "a second pass gave other values")
        _ = try once(x)
        let kept = try repeated(x)
        XCTAssertTrue(repeated.repeatsTrainingForward)
        try repeated.repeatTrainingState()
        XCTAssertEqual(kept.scalars, second.scalars)
        XCTAssertEqual(repeated.stateDict(), twice.stateDict(), "running statistics or the batch count differ")
        XCTAssertNotEqual(once.stateDict(), twice.stateDict(), "the second pass changed no state to repeat")

        // After an evaluation pass there is no training pass to repeat.
        once.eval()
        _ = try once(x)
        let afterEvaluation = once.stateDict()
        try once.repeatTrainingState()
        XCTAssertEqual(once.stateDict(), afterEvaluation, "repeated a training pass from before an evaluation pass")

        // Spectral norm's power iteration moves u and v on every training pass: such a network must run again.
        XCTAssertFalse(Sequential(try spectralNorm(Conv2d(2, 3, kernelSize: 3)), BatchNorm2d(3)).repeatsTrainingForward)
        XCTAssertFalse(try spectralNorm(Linear(3, 2)).repeatsTrainingForward)
    }

    func testRoundTripCopiesEveryValue() throws {
        let source = makeModel(), target = makeModel()
        DefaultGenerator.shared.fillUniform(source.namedBuffers()[0].buffer.tensor, 0, 1)
        try target.loadStateDict(source.stateDict())
        XCTAssertEqual(target.stateDict(), source.stateDict())
    }

    func testMismatchesAreNamedAndLeaveTheModelUntouched() throws {
        let model = makeModel()
        let before = model.stateDict()
        var missing = before
        missing["3.bias"] = nil
        XCTAssertThrowsError(try model.loadStateDict(missing)) {
            XCTAssertEqual($0 as? ModuleError, .missingTensor("3.bias"))
        }

        var extra = before
        extra["4.weight"] = StateTensor(shape: [1], values: .float32([0]))
        XCTAssertThrowsError(try model.loadStateDict(extra)) {
            XCTAssertEqual($0 as? ModuleError, .unexpectedTensor("4.weight"))
        }

        var wrongShape = before
        wrongShape["0.weight"] = StateTensor(shape: [3, 4], values: .float32(.init(repeating: 9, count: 12)))
        wrongShape["3.bias"] = StateTensor(shape: [2], values: .float32([7, 7]))
        XCTAssertThrowsError(try model.loadStateDict(wrongShape)) { error in
            XCTAssertEqual(error as? ModuleError, .shapeMismatch(name: "0.weight", expected: [4, 3], found: [3, 4]))
            XCTAssertTrue("\(error)".contains("\"0.weight\" has shape [3, 4], the model expects [4, 3]"))
        }
        var wrongType = before
        wrongType["1.num_batches_tracked"] = StateTensor(shape: [], values: .float32([0]))
        XCTAssertThrowsError(try model.loadStateDict(wrongType)) { XCTAssertTrue("\($0)".contains("int64")) }
        XCTAssertEqual(model.stateDict(), before, "a failed load changed the model")
    }
}

final class SafeTensorsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func sample() -> SafeTensors.File {
        var dict = StateDict()
        dict["model.0.weight"] = StateTensor(shape: [2, 3], values: .float32([1, -2, 3.5, 0, 1e-8, -7]))
        dict["model.1.num_batches_tracked"] = StateTensor(shape: [], values: .int64([12]))
        dict["scalar"] = StateTensor(shape: [], values: .float32([0.25]))
        return SafeTensors.File(tensors: dict, metadata: ["step": "12", "config": "name: dcgan\n"])
    }

    func testRoundTripThroughAFile() throws {
        let url = directory.appendingPathComponent("a.safetensors")
        try SafeTensors.write(sample(), to: url)
        let read = try SafeTensors.read(url)
        XCTAssertEqual(read.tensors, sample().tensors)
        XCTAssertEqual(read.metadata, sample().metadata)
        let bytes = try Data(contentsOf: url)
        let headerLength = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(headerLength % 8, 0, "the header is padded to 8 bytes")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: directory.path), ["a.safetensors"],
            "no temporary file left")
    }

    func testFixturesWrittenByPythonAreRead() throws {
        let file = try Fixtures.load("optimizers.safetensors")
        XCTAssertEqual(file.tensors["initial"]?.shape, [3, 5])
    }

    func testDamagedFilesAreErrorsNamingTheFile() throws {
        let good = try SafeTensors.encode(sample())
        var cases: [(String, Data)] = [
            ("truncated data", good.prefix(good.count - 3)),
            ("truncated header", good.prefix(20)),
            ("too short", good.prefix(5)),
            ("extra bytes", good + Data([1, 2, 3, 4])),
        ]
        var hugeLength = good
        hugeLength.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        cases.append(("absurd header length", hugeLength))
        var notJSON = good
        notJSON[8] = UInt8(ascii: "#")
        cases.append(("broken JSON", notJSON))
        for (name, data) in cases {
            let url = directory.appendingPathComponent("bad.safetensors")
            try data.write(to: url)
            XCTAssertThrowsError(try SafeTensors.read(url), name) { error in
                XCTAssertTrue("\(error)".contains(url.path), "\(name): \(error)")
            }
        }
    }

    func testOverlappingRangesAreRejected() throws {
        let header =
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        var data = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        data.append(Data(header.utf8))
        data.append(Data(count: 8))
        XCTAssertThrowsError(try SafeTensors.decode(data)) { XCTAssertTrue("\($0)".contains("overlaps")) }
    }
}

final class ParameterArenaTests: XCTestCase {
    func testParametersBecomeViewsAndGradientsLandInTheArena() throws {
        let model = Sequential(Linear(3, 4), Tanh(), Linear(4, 2))
        let before = model.stateDict()
        let arena = ParameterArena(model)
        XCTAssertEqual(model.stateDict(), before, "moving into the arena changed a value")
        XCTAssertEqual(arena.parameters.map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
        XCTAssertEqual(arena.offsets, [0, 16, 32, 48])  // 64-byte aligned starts

        let x = Tensor(repeating: 0.5, shape: [5, 3])
        try model(x).sum().backward()
        let gradient = model.namedParameters()[2].parameter.grad!
        XCTAssertEqual(gradient.storage === arena.gradients.storage, true)
        XCTAssertNotEqual(arena.gradientNorm, 0)
        // The arena's slice is the parameter's gradient.
        XCTAssertEqual(Array(arena.gradients.scalars[32..<40]), gradient.scalars)

        arena.zeroGradients()
        XCTAssertEqual(arena.gradientNorm, 0)
        arena.values.pointer[0] = 5
        XCTAssertEqual(model.namedParameters()[0].parameter.value.pointer[0], 5, "the parameter is a view of the arena")
    }

    func testOptimizerStateRoundTrips() throws {
        let model = Linear(3, 2)
        let arena = ParameterArena(model)
        let adam = Adam(arena)
        arena.gradients.pointer.update(repeating: 0.3, count: arena.count)
        adam.step()
        let state = adam.stateDict()
        XCTAssertEqual(state.names, ["weight.exp_avg", "bias.exp_avg", "weight.exp_avg_sq", "bias.exp_avg_sq", "step"])
        let restored = Adam(ParameterArena(Linear(3, 2)))
        try restored.loadStateDict(state)
        XCTAssertEqual(restored.stateDict(), state)
        var broken = state
        broken["bias.exp_avg"] = nil
        XCTAssertThrowsError(try restored.loadStateDict(broken)) {
            XCTAssertEqual($0 as? ModuleError, .missingTensor("bias.exp_avg"))
        }
    }
}
