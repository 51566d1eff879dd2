/// A contiguous float32 array with a shape (NCHW for images), a view into reference-counted `Storage` on
/// one device.
///
/// A tensor produced by a recorded operation carries the tape node that made it (`gradientFunction`),
/// so `backward()` and `grad(of:withRespectTo:)` can walk the computation back to its leaves.
public final class Tensor {
    public let shape: [Int]
    /// Number of elements: the product of `shape` (1 for a scalar, whose shape is `[]`).
    public let count: Int
    public let storage: Storage
    /// Offset of the first element within `storage`, in floats (non-zero for parameter-arena views).
    public let offset: Int

    /// The tape node that produced this tensor, when it was recorded.
    public internal(set) var gradientFunction: Node?
    /// Whether gradients flow to this tensor: a leaf that asked for them, or a recorded result.
    public internal(set) var requiresGrad: Bool
    /// The gradient that `backward()` accumulated into this leaf. Parameter-arena leaves start with a view
    /// into the gradient arena here, so accumulation writes the arena in place.
    public var grad: Tensor?
    /// How many of this rank's samples the tensor holds, sample after sample, when it was computed from a
    /// batch marked with `markingSamples()`; nil for everything else (parameters, their gradients, totals).
    /// Reproducible mode (`ReproducibleBatch`) splits the operations on such tensors into fixed chunks.
    public internal(set) var samples: Int?

    public init(shape: [Int], storage: Storage, offset: Int = 0) {
        let count = shape.reduce(1, *)
        precondition(offset + count <= storage.capacity, "view past the end of its storage")
        self.shape = shape
        self.count = count
        self.storage = storage
        self.offset = offset
        self.requiresGrad = false
    }

    /// Whether both tensors are the same values in memory: one storage, from one offset, in one shape.
    func isSameView(as other: Tensor) -> Bool {
        storage === other.storage && offset == other.offset && shape == other.shape
    }

    /// An uninitialised tensor from `backend`'s pool; kernels overwrite every element.
    public convenience init(uninitialized shape: [Int], backend: Backend = CPUBackend.shared) {
        self.init(shape: shape, storage: Storage(count: shape.reduce(1, *), backend: backend))
    }

    public convenience init(zeros shape: [Int], backend: Backend = CPUBackend.shared) {
        self.init(repeating: 0, shape: shape, backend: backend)
    }

    public convenience init(repeating value: Float, shape: [Int], backend: Backend = CPUBackend.shared) {
        self.init(uninitialized: shape, backend: backend)
        backend.fill(self, with: value)
    }

    /// Copies `values` (row-major) into a new tensor.
    public convenience init(_ values: [Float], shape: [Int], backend: Backend = CPUBackend.shared) throws {
        guard values.count == shape.reduce(1, *) else {
            throw TensorError.shapeMismatch(
                operation: "Tensor(_:shape:)", detail: "\(values.count) values for shape \(describe(shape))")
        }
        self.init(uninitialized: shape, backend: backend)
        values.withUnsafeBufferPointer { backend.upload($0.baseAddress!, into: self) }
    }

    /// A scalar tensor (shape `[]`).
    public convenience init(scalar: Float, backend: Backend = CPUBackend.shared) {
        self.init(repeating: scalar, shape: [], backend: backend)
    }

    public var backend: Backend { storage.backend }
    public var device: Device { storage.backend.device }

    /// First element of a host tensor; the CPU backend's kernels and host boundaries read and write through it.
    public var pointer: UnsafeMutablePointer<Float> { storage.base + offset }

    public var rank: Int { shape.count }

    /// The elements, copied to the host (row-major).
    public var scalars: [Float] {
        if storage.isHost { return Array(UnsafeBufferPointer(start: pointer, count: count)) }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            backend.download(self, into: buffer.baseAddress!)
            initialized = count
        }
    }

    /// The only element of a one-element tensor (a host read: on a device it waits for the work before it).
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, not \(describe(shape))")
        return storage.isHost ? pointer[0] : scalars[0]
    }

    /// This tensor's values on `device` (itself when already there), outside the tape.
    public func to(_ device: Device) throws -> Tensor {
        if device == self.device { return self }
        let target = try device.backend
        let result = Tensor(uninitialized: shape, backend: target)
        if storage.isHost {
            target.upload(pointer, into: result)
        } else if result.storage.isHost {
            backend.download(self, into: result.pointer)
        } else {
            let staging = try to(.cpu)
            target.upload(staging.pointer, into: result)
        }
        return result
    }

    /// Marks a leaf as wanting gradients (PyTorch's `requires_grad_()`).
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        precondition(gradientFunction == nil, "requiringGrad applies to leaves")
        requiresGrad = flag
        return self
    }

    /// The same values, cut from the tape: no gradient flows back through the result.
    public func detached() -> Tensor {
        let result = Tensor(shape: shape, storage: storage, offset: offset)
        result.samples = samples
        return result
    }

    /// A new tensor on the same device with a copy of the values and no tape history.
    public func copy() -> Tensor {
        let result = Tensor(uninitialized: shape, backend: backend)
        backend.copy(self, into: result)
        return result
    }

    /// Overwrites this tensor's values with `source`'s (same count, any device) outside the tape.
    public func assign(_ source: Tensor) throws {
        guard source.count == count else {
            throw TensorError.shapeMismatch(
                operation: "assign", detail: "\(describe(source.shape)) into \(describe(shape))")
        }
        backend.copy(try source.to(device), into: self)
    }

    /// Overwrites this tensor's values with `values` from the host (same count).
    public func assign(_ values: [Float]) throws {
        guard values.count == count else {
            throw TensorError.shapeMismatch(
                operation: "assign", detail: "\(values.count) values into \(describe(shape))")
        }
        values.withUnsafeBufferPointer { backend.upload($0.baseAddress!, into: self) }
    }

    /// A tensor of this shape on this tensor's device, for an operation's result. It holds samples when this
    /// tensor does and the first axis is still theirs; operations that sum over samples clear that.
    func sibling(_ shape: [Int]) -> Tensor {
        let result = Tensor(uninitialized: shape, backend: backend)
        if let samples, shape.first == samples { result.samples = samples }
        return result
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(describe(shape)), \(device): [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
