/// Errors from tensor operations: each says which operation failed and why, in words a user can act on.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(operation: String, detail: String)
    case invalidArgument(operation: String, detail: String)
    case noSecondDerivative(operation: String)
    case notDifferentiable(detail: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, detail): "\(operation): shape mismatch: \(detail)"
        case let .invalidArgument(operation, detail): "\(operation): \(detail)"
        case let .noSecondDerivative(operation):
            "\(operation) has no second derivative in SwiftGAN; createGraph: true cannot pass through it "
                + "(a gradient penalty needs a critic without batch norm)"
        case let .notDifferentiable(detail): "autodiff: \(detail)"
        }
    }
}

/// Formats a shape the way PyTorch prints it: `[64, 1, 28, 28]`.
public func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
