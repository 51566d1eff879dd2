/// Shape checks shared by the operations: each throws a `TensorError` naming the operation.
enum Check {
    static func sameShape(_ operation: String, _ a: Tensor, _ b: Tensor) throws {
        guard a.shape == b.shape else {
            throw TensorError.shapeMismatch(
                operation: operation, detail: "\(describe(a.shape)) and \(describe(b.shape)) must be equal")
        }
        try sameDevice(operation, a, b)
    }

    /// Operands of one operation live on one device (PyTorch refuses mixed devices the same way). Two
    /// operands, not a variadic list: it runs on every operation, and a list would be built each time.
    static func sameDevice(_ operation: String, _ a: Tensor, _ b: Tensor) throws {
        guard a.storage.backend !== b.storage.backend else { return }
        throw TensorError.invalidArgument(
            operation: operation, detail: "operands on \(a.device) and \(b.device): move them to one device first")
    }

    static func rank(_ operation: String, _ x: Tensor, _ ranks: Set<Int>, _ what: String) throws {
        guard ranks.contains(x.rank) else {
            throw TensorError.shapeMismatch(operation: operation, detail: "expected \(what), got \(describe(x.shape))")
        }
    }

    static func scalar(_ operation: String, _ x: Tensor) throws {
        guard x.count == 1 else {
            throw TensorError.shapeMismatch(
                operation: operation, detail: "expected one element, got \(describe(x.shape))")
        }
    }
}

/// backend.unary into a fresh tensor of the same shape and device.
func unary(_ operation: UnaryOperation, _ x: Tensor) -> Tensor {
    let y = x.sibling(x.shape)
    x.backend.unary(operation, x, into: y)
    return y
}

/// backend.binary into a fresh tensor shaped like `a` (callers check shapes and devices).
func binary(_ operation: BinaryOperation, _ a: Tensor, _ b: Tensor) -> Tensor {
    let y = a.sibling(a.shape)
    y.samples = a.samples ?? b.samples
    a.backend.binary(operation, a, b, into: y)
    return y
}
