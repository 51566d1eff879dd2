/// Why CUDA could not be used or failed, in one line a user can act on.
public enum CUDAError: Error, CustomStringConvertible, Equatable {
    /// A library, the driver or a GPU is missing.
    case unavailable(String)
    /// A driver, NVRTC or cuBLAS call returned an error.
    case call(String, code: Int32, message: String)
    /// NVRTC rejected the kernels (the first lines of its log).
    case compilation(String)
    case outOfMemory(requestedBytes: Int, freeBytes: Int, totalBytes: Int)

    public var description: String {
        switch self {
        case let .unavailable(reason): "cuda: \(reason)"
        case let .call(name, code, message): "cuda: \(name) failed (\(code)): \(message)"
        case let .compilation(log): "cuda: NVRTC could not compile SwiftGAN's kernels: \(log)"
        case let .outOfMemory(requested, free, total):
            "cuda: out of GPU memory: \(requested >> 20) MiB asked for, \(free >> 20) of \(total >> 20) MiB free "
                + "(a smaller training.batch_size needs less)"
        }
    }
}
