/// A contiguous float32 array with a shape (NCHW for images), a view into reference-counted `Storage`.
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

    public init(shape: [Int], storage: Storage, offset: Int = 0) {
        let count = shape.reduce(1, *)
        precondition(offset + count <= storage.capacity, "view past the end of its storage")
        self.shape = shape
        self.count = count
        self.storage = storage
        self.offset = offset
        self.requiresGrad = false
    }

    /// An uninitialised tensor from the buffer pool; kernels overwrite every element.
    public convenience init(uninitialized shape: [Int]) {
        self.init(shape: shape, storage: Storage(count: shape.reduce(1, *)))
    }

    public convenience init(zeros shape: [Int]) {
        self.init(shape: shape, storage: Storage(count: shape.reduce(1, *), zeroed: true))
    }

    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(uninitialized: shape)
        pointer.update(repeating: value, count: count)
    }

    /// Copies `values` (row-major) into a new tensor.
    public convenience init(_ values: [Float], shape: [Int]) throws {
        guard values.count == shape.reduce(1, *) else {
            throw TensorError.shapeMismatch(
                operation: "Tensor(_:shape:)", detail: "\(values.count) values for shape \(describe(shape))")
        }
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// A scalar tensor (shape `[]`).
    public convenience init(scalar: Float) {
        self.init(uninitialized: [])
        pointer[0] = scalar
    }

    /// First element; raw kernels read and write through it.
    @inlinable public var pointer: UnsafeMutablePointer<Float> { storage.base + offset }

    public var rank: Int { shape.count }

    /// The elements, copied into an array (row-major).
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// The only element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, not \(describe(shape))")
        return pointer[0]
    }

    /// Marks a leaf as wanting gradients (PyTorch's `requires_grad_()`).
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        precondition(gradientFunction == nil, "requiringGrad applies to leaves")
        requiresGrad = flag
        return self
    }

    /// The same values, cut from the tape: no gradient flows back through the result.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage, offset: offset) }

    /// A new tensor with a copy of the values and no tape history.
    public func copy() -> Tensor {
        let result = Tensor(uninitialized: shape)
        result.pointer.update(from: pointer, count: count)
        return result
    }

    /// Overwrites this tensor's values with `source`'s (same count) outside the tape.
    public func assign(_ source: Tensor) throws {
        guard source.count == count else {
            throw TensorError.shapeMismatch(
                operation: "assign", detail: "\(describe(source.shape)) into \(describe(shape))")
        }
        pointer.update(from: source.pointer, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(describe(shape)): [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
