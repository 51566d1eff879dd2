/// Where a tensor's memory lives and its operations run: the host's cores, or one CUDA GPU.
public enum Device: Hashable, Sendable, CustomStringConvertible {
    case cpu
    /// CUDA device by ordinal (`cuda:0`).
    case cuda(Int)

    /// `cpu`, `cuda` (device 0) or `cuda:N`, as PyTorch spells them.
    public init(parsing text: String) throws {
        switch text {
        case "cpu": self = .cpu
        case "cuda": self = .cuda(0)
        default:
            guard text.hasPrefix("cuda:"), let ordinal = Int(text.dropFirst(5)), ordinal >= 0 else {
                throw TensorError.invalidArgument(
                    operation: "device", detail: "'\(text)' is not a device: use cpu, cuda or cuda:N")
            }
            self = .cuda(ordinal)
        }
    }

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case let .cuda(ordinal): "cuda:\(ordinal)"
        }
    }

    /// How many CUDA GPUs this machine has (0 without a driver).
    public static var cudaDeviceCount: Int { CUDABackend.deviceCount() }

    /// The backend that runs this device's operations (created on first use; throws where a device cannot
    /// be used, e.g. no driver).
    public var backend: Backend {
        get throws { try Backends.backend(for: self) }
    }
}
