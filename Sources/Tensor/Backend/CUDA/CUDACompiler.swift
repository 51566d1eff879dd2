import CCUDA
import Foundation

/// NVRTC, loaded at run time: compiles `CUDAKernels.source` to PTX for one GPU architecture, and caches the
/// PTX on disk (`~/.cache/swiftgan/cuda`, keyed by source, architecture and NVRTC version), so only a
/// process's first use on a machine pays for the compile.
public struct CUDACompiler {
    let api: SwiftGANNVRTC
    public let version: (major: Int, minor: Int)

    /// Loads NVRTC (`libnvrtc.so.13` or `.12`) from `directory` first when given, else the library path.
    public init(directory: String? = nil) throws {
        var api = SwiftGANNVRTC()
        var error = [CChar](repeating: 0, count: 512)
        guard swiftgan_load_nvrtc(&api, directory, &error, error.count) == 0 else {
            throw CUDAError.unavailable(String(cString: error))
        }
        self.api = api
        var (major, minor): (Int32, Int32) = (0, 0)
        _ = api.nvrtcVersion(&major, &minor)
        version = (Int(major), Int(minor))
    }

    /// PTX of `source` for compute capability `architecture` (e.g. 90 for the H100).
    public func ptx(architecture: Int, useCache: Bool = true) throws -> [CChar] {
        try ptx(CUDAKernels.source, architecture: architecture, useCache: useCache)
    }

    func ptx(_ source: String, architecture: Int, useCache: Bool) throws -> [CChar] {
        let cache = Self.cacheURL(source: source, architecture: architecture, version: version)
        if useCache, let cached = try? Data(contentsOf: cache), !cached.isEmpty {
            return cached.map { CChar(bitPattern: $0) } + [0]
        }
        var program: nvrtcProgram?
        try check(api.nvrtcCreateProgram(&program, source, "swiftgan_kernels.cu", 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = api.nvrtcDestroyProgram(&program) }
        let options = ["--gpu-architecture=compute_\(architecture)", "--std=c++17"]
        let pointers = options.map { strdup($0) }
        defer { for pointer in pointers { free(pointer) } }
        let status = pointers.map { UnsafePointer($0) }.withUnsafeBufferPointer {
            api.nvrtcCompileProgram(program, Int32(options.count), $0.baseAddress)
        }
        guard status == 0 else {
            var size = 0
            _ = api.nvrtcGetProgramLogSize(program, &size)
            var log = [CChar](repeating: 0, count: max(size, 1))
            _ = api.nvrtcGetProgramLog(program, &log)
            let lines = String(cString: log).split(separator: "\n").prefix(3).joined(separator: " | ")
            throw CUDAError.compilation(lines)
        }
        var size = 0
        try check(api.nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize")
        var ptx = [CChar](repeating: 0, count: size)
        try check(api.nvrtcGetPTX(program, &ptx), "nvrtcGetPTX")
        if useCache {
            try? FileManager.default.createDirectory(
                at: cache.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? Data(ptx.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }).write(to: cache, options: .atomic)
        }
        return ptx
    }

    private func check(_ status: nvrtcResult, _ call: String) throws {
        guard status != 0 else { return }
        throw CUDAError.call(
            call, code: status, message: api.nvrtcGetErrorString(status).map { String(cString: $0) } ?? "unknown error")
    }

    static func cacheURL(source: String, architecture: Int, version: (major: Int, minor: Int)) -> URL {
        // FNV-1a of the source: a stable key across processes (Swift's hashValue is seeded per process).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in source.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let base =
            ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent(
            "swiftgan/cuda/kernels-\(String(hash, radix: 16))-sm\(architecture)-nvrtc\(version.major).\(version.minor).ptx"
        )
    }
}
