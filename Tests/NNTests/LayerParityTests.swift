import Foundation
import NN
import TestSupport
import XCTest

/// Every case of `layers.safetensors`: the layer is built in Swift, given PyTorch's parameters and buffers,
/// run forward in the same mode, then differentiated through Σ y·R; outputs, input gradients, parameter
/// gradients and updated buffers must match PyTorch's to 1e-4 of their scale.
final class LayerParityTests: XCTestCase {
    struct Case: Decodable {
        let name: String
        let kind: String
        let args: Arguments
    }

    struct Arguments: Decodable {
        var `in`: Int?
        var out: Int?
        var kernel: Int?
        var stride: Int?
        var padding: Int?
        var bias: Bool?
        var features: Int?
        var eps: Double?
        var train: Bool?
        var slope: Double?
        var indices: [Int]?
    }

    func testEveryLayerMatchesPyTorch() throws {
        let file = try Fixtures.load("layers.safetensors")
        let cases = try JSONDecoder().decode([Case].self, from: Data(file.metadata["cases"]!.utf8))
        XCTAssertGreaterThanOrEqual(cases.count, 30)
        for testCase in cases { try check(testCase, file) }
    }

    /// The Swift module for a case, and how to apply it to the input.
    func make(_ c: Case, _ file: SafeTensors.File) throws -> (Module?, (Tensor, Module?) throws -> Tensor) {
        let a = c.args
        let apply: (Tensor, Module?) throws -> Tensor = { x, m in try m!(x) }
        switch c.kind {
        case "linear": return (Linear(a.in!, a.out!, bias: a.bias!), apply)
        case "conv2d":
            return (
                Conv2d(a.in!, a.out!, kernelSize: a.kernel!, stride: a.stride!, padding: a.padding!, bias: a.bias!),
                apply
            )
        case "convtranspose2d":
            return (
                ConvTranspose2d(
                    a.in!, a.out!, kernelSize: a.kernel!, stride: a.stride!, padding: a.padding!, bias: a.bias!), apply
            )
        case "batchnorm1d":
            let bn = BatchNorm1d(a.features!, epsilon: Float(a.eps!))
            bn.setTraining(a.train!)
            return (bn, apply)
        case "batchnorm2d":
            let bn = BatchNorm2d(a.features!, epsilon: Float(a.eps!))
            bn.setTraining(a.train!)
            return (bn, apply)
        case "relu": return (ReLU(), apply)
        case "leakyrelu": return (LeakyReLU(Float(a.slope!)), apply)
        case "tanh": return (Tanh(), apply)
        case "sigmoid": return (Sigmoid(), apply)
        case "embedding":
            let holder = Module()
            let embedding = Embedding(10, 6)
            holder.register(embedding, as: "e")
            return (holder, { x, _ in try multiply(embedding.forward(indices: a.indices!), x) })
        case "spectralnorm_linear":
            let layer = try spectralNorm(Linear(a.in!, a.out!))
            layer.setTraining(a.train!)
            return (layer, apply)
        case "spectralnorm_conv2d":
            let layer = try spectralNorm(
                Conv2d(a.in!, a.out!, kernelSize: a.kernel!, stride: a.stride!, padding: a.padding!))
            layer.setTraining(a.train!)
            return (layer, apply)
        case "bce":
            let target = try file.tensor("bce.target")
            return (nil, { x, _ in try binaryCrossEntropy(x, target: target) })
        case "bce_logits":
            let target = try file.tensor("bce_logits.target")
            return (nil, { x, _ in try binaryCrossEntropyWithLogits(x, target: target) })
        case "hinge_fake": return (nil, { x, _ in try x.shifted(by: 1).relu().mean() })
        case "hinge_real": return (nil, { x, _ in try x.negated().shifted(by: 1).relu().mean() })
        case "mean": return (nil, { x, _ in try x.mean() })
        case "cross_entropy": return (nil, { x, _ in try softmaxCrossEntropy(x, labels: a.indices!) })
        default: throw FixtureError.missing("kind \(c.kind)")
        }
    }

    func check(_ c: Case, _ file: SafeTensors.File) throws {
        let (module, apply) = try make(c, file)
        if let module {
            // PyTorch's parameters and buffers, loaded by name: this also checks the Swift names.
            var state = StateDict()
            for name in module.stateDict().names {
                state[name] = file.tensors["\(c.name).param.\(name)"] ?? file.tensors["\(c.name).buffer_before.\(name)"]
            }
            try module.loadStateDict(state)
        }
        let x = try file.tensor("\(c.name).x").requiringGrad()
        let y = try apply(x, module)
        assertClose(y.scalars, try file.floats("\(c.name).y"), "\(c.name) output")
        let r = Fixtures.hashed(y.shape, key: 7)
        try multiply(y, r).sum().backward()
        assertClose(x.grad?.scalars ?? [], try file.floats("\(c.name).dx"), "\(c.name) input gradient")
        for (name, parameter) in module?.namedParameters() ?? [] {
            assertClose(
                parameter.grad?.scalars ?? [], try file.floats("\(c.name).grad.\(name)"),
                "\(c.name) gradient of \(name)")
        }
        for (name, buffer) in module?.namedBuffers() ?? [] {
            switch buffer.value {
            case let .float32(t):
                assertClose(t.scalars, try file.floats("\(c.name).buffer_after.\(name)"), "\(c.name) \(name)")
            case let .int64(v):
                XCTAssertEqual([Int(v)], try file.integers("\(c.name).buffer_after.\(name)"), "\(c.name) \(name)")
            }
        }
    }
}

final class OptimizerParityTests: XCTestCase {
    /// Ten steps from PyTorch's initial values with PyTorch's gradients reach PyTorch's values and state.
    func testAdamAndRMSpropMatchPyTorchOverTenSteps() throws {
        let file = try Fixtures.load("optimizers.safetensors")
        let settings: [(String, (ParameterArena) -> Optimizer)] = [
            ("adam", { Adam($0, learningRate: 2e-4, betas: (0.5, 0.999)) }),
            ("adam_gp", { Adam($0, learningRate: 1e-4, betas: (0.5, 0.9)) }),
            ("rmsprop", { RMSprop($0, learningRate: 5e-5) }),
            ("rmsprop_big", { RMSprop($0, learningRate: 0.1) }),
        ]
        for (name, make) in settings {
            let holder = Module()
            let parameter = Parameter(try file.tensor("initial"))
            holder.register(parameter, as: "p")
            let arena = ParameterArena(holder)
            let optimizer = make(arena)
            for step in 0..<10 {
                try parameter.grad!.assign(file.tensor("grad.\(step)"))
                optimizer.step()
            }
            // Relative to the change the steps made, not to the parameters' size, so small steps still count.
            let initial = try file.floats("initial"), expected = try file.floats("\(name).final")
            let moved = zip(parameter.value.scalars, initial).map { $0 - $1 }
            let expectedMove = zip(expected, initial).map { $0 - $1 }
            assertClose(moved, expectedMove, tolerance: 1e-3, "\(name) parameter change")
            let state = optimizer.stateDict()
            for (stateName, _) in optimizer.stateArenas {
                guard case let .float32(values)? = state["p.\(stateName)"]?.values else {
                    return XCTFail("no \(stateName)")
                }
                assertClose(values, try file.floats("\(name).state.\(stateName)"), "\(name) \(stateName)")
            }
            XCTAssertEqual(optimizer.stepCount, 10)
        }
    }
}
