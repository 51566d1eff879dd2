/// Shape checks shared by the operations: each throws a `TensorError` naming the operation.
enum Check {
    static func sameShape(_ operation: String, _ a: Tensor, _ b: Tensor) throws {
        guard a.shape == b.shape else {
            throw TensorError.shapeMismatch(
                operation: operation, detail: "\(describe(a.shape)) and \(describe(b.shape)) must be equal")
        }
    }

    static func rank(_ operation: String, _ x: Tensor, _ ranks: Set<Int>, _ what: String) throws {
        guard ranks.contains(x.rank) else {
            throw TensorError.shapeMismatch(operation: operation, detail: "expected \(what), got \(describe(x.shape))")
        }
    }

    static func scalar(_ operation: String, _ x: Tensor) throws {
        guard x.count == 1 else {
            throw TensorError.shapeMismatch(operation: operation, detail: "expected one element, got \(describe(x.shape))")
        }
    }
}

/// Runs a unary kernel into a fresh tensor of the same shape.
@inline(__always)
func elementwise(_ x: Tensor, _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
    let y = Tensor(uninitialized: x.shape)
    kernel(x.pointer, y.pointer, x.count)
    return y
}

/// Runs a binary kernel into a fresh tensor shaped like `a`.
@inline(__always)
func elementwise(
    _ a: Tensor, _ b: Tensor, _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
) -> Tensor {
    let y = Tensor(uninitialized: a.shape)
    kernel(a.pointer, b.pointer, y.pointer, a.count)
    return y
}
