import Foundation
import NN

/// The PyTorch reference files written by `Tests/Fixtures/make_fixtures.py`.
public enum Fixtures {
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static func load(_ relativePath: String) throws -> SafeTensors.File {
        try SafeTensors.read(directory.appendingPathComponent(relativePath))
    }

    /// The same values as the fixture script's `hash_values`: scale·(2u − 1) with u from a 32-bit hash.
    public static func hashValues(count: Int, key: UInt64, scale: Double) -> [Float] {
        (0..<count).map { i in
            var x = (UInt64(i) &* 0x9E37_79B1 &+ key &* 0x85EB_CA77) & 0xFFFF_FFFF
            x ^= x >> 15
            x = (x &* 0x2C1B_3C6D) & 0xFFFF_FFFF
            x ^= x >> 12
            x = (x &* 0x297A_2D39) & 0xFFFF_FFFF
            x ^= x >> 15
            let u = Double(x >> 8) / Double(1 << 24)
            return Float(scale * (2 * u - 1))
        }
    }

    public static func hashed(_ shape: [Int], key: UInt64, scale: Double = 1) -> Tensor {
        try! Tensor(hashValues(count: shape.reduce(1, *), key: key, scale: scale), shape: shape)
    }

    /// The fixture script's `sample_positions`: every value up to 4096, else a stride keeping about 4096.
    public static func sampled(_ values: [Float]) -> [Float] {
        let step = values.count <= 4096 ? 1 : (values.count + 4095) / 4096
        return stride(from: 0, to: values.count, by: step).map { values[$0] }
    }
}

extension SafeTensors.File {
    /// The float values stored under `name`, or a failure naming it.
    public func floats(_ name: String) throws -> [Float] {
        guard case let .float32(v)? = tensors[name]?.values else { throw FixtureError.missing(name) }
        return v
    }

    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = tensors[name] else { throw FixtureError.missing(name) }
        return try entry.tensor()
    }

    public func integers(_ name: String) throws -> [Int] {
        guard case let .int64(v)? = tensors[name]?.values else { throw FixtureError.missing(name) }
        return v.map(Int.init)
    }

    /// Builds the state dict the fixture script gave `prefix` ("generator", "discriminator"): stored
    /// tensors as they are, hashed weights recomputed from the key and scale in the metadata.
    public func initialState(for module: Module, prefix: String) throws -> StateDict {
        var dict = StateDict()
        for (name, expected) in module.stateDict().names.map({ ($0, module.stateDict()[$0]!) }) {
            if let stored = tensors["\(prefix).state.\(name)"] {
                dict[name] = stored
            } else if let recipe = metadata["\(prefix).init.\(name)"] {
                let parts = recipe.split(separator: " ")
                guard parts.count == 2, let key = UInt64(parts[0]), let scale = Double(parts[1]) else {
                    throw FixtureError.missing("\(prefix).init.\(name)")
                }
                dict[name] = StateTensor(
                    shape: expected.shape,
                    values: .float32(Fixtures.hashValues(count: expected.count, key: key, scale: scale)))
            } else if case .int64 = expected.values {
                dict[name] = StateTensor(shape: [], values: .int64([0]))
            } else {
                throw FixtureError.missing("\(prefix).state.\(name)")
            }
        }
        return dict
    }
}

public enum FixtureError: Error, CustomStringConvertible {
    case missing(String)
    public var description: String { "fixture has no entry \"\(String(describing: self))\"" }
}

/// Paths and scratch space for tests that use the repository's own files.
public enum Repository {
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func config(_ name: String) -> URL { root.appendingPathComponent("Configs/\(name).yaml") }
    public static var shippedData: URL { root.appendingPathComponent("Data/mnist") }
    public static var fullMNIST: URL { root.deletingLastPathComponent().appendingPathComponent("shared/data/mnist") }

    /// A new empty directory, removed by the caller's tearDown.
    public static func scratchDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftgan-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
