import CCUDA
import Foundation

/// One CUDA GPU: memory from a caching allocator over `cuMemAlloc`, kernels compiled by NVRTC at first use,
/// GEMM through cuBLAS. Everything runs in order on the legacy default stream, so a host read (`download`)
/// sees every result before it.
///
/// The `Backend` protocol does not throw; a CUDA failure in the middle of an operation (out of memory, a
/// kernel launch error) is printed as one line and ends the process with status 1 (`fail`), which under
/// mpirun ends the job. The last checkpoint stays intact: checkpoints are written to a temporary file and
/// renamed.
final class CUDABackend: Backend {
    let device: Device
    let name: String
    /// Compute capability, e.g. 90 for the H100.
    let architecture: Int
    private let driver: SwiftGANDriver
    private let cublas: SwiftGANCuBLAS
    private let blasHandle: cublasHandle_t
    private let functions: [CUDAKernel: CUfunction]
    private var free: [Int: [UInt]] = [:]
    private let lock = NSLock()

    /// The CUDA devices this machine has (0 where there is no driver).
    static func deviceCount() -> Int {
        var driver = SwiftGANDriver()
        var error = [CChar](repeating: 0, count: 512)
        guard swiftgan_load_driver(&driver, &error, error.count) == 0, driver.cuInit(0) == 0 else { return 0 }
        var count: Int32 = 0
        return driver.cuDeviceGetCount(&count) == 0 ? Int(count) : 0
    }

    /// Use `Backends.backend(for: .cuda(ordinal))`, which makes one per device.
    init(ordinal: Int) throws {
        device = .cuda(ordinal)
        var error = [CChar](repeating: 0, count: 512)
        var driver = SwiftGANDriver()
        guard swiftgan_load_driver(&driver, &error, error.count) == 0 else {
            throw CUDAError.unavailable(String(cString: error))
        }
        self.driver = driver
        func check(_ status: CUresult, _ call: String) throws {
            guard status != 0 else { return }
            throw CUDAError.call(call, code: status, message: Self.message(driver, status))
        }
        let initialized = driver.cuInit(0)
        let noDevice: CUresult = 100  // CUDA_ERROR_NO_DEVICE
        guard initialized != noDevice else {
            throw CUDAError.unavailable("the NVIDIA driver reports no CUDA-capable GPU")
        }
        try check(initialized, "cuInit")
        var count: Int32 = 0
        try check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard ordinal < count else {
            throw CUDAError.unavailable(
                "device cuda:\(ordinal) does not exist (this machine has \(count) GPU\(count == 1 ? "" : "s"))")
        }
        var handle: CUdevice = 0
        try check(driver.cuDeviceGet(&handle, Int32(ordinal)), "cuDeviceGet")
        var major: Int32 = 0, minor: Int32 = 0
        try check(
            driver.cuDeviceGetAttribute(&major, Int32(SWIFTGAN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR), handle),
            "cuDeviceGetAttribute")
        try check(
            driver.cuDeviceGetAttribute(&minor, Int32(SWIFTGAN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), handle),
            "cuDeviceGetAttribute")
        architecture = Int(major * 10 + minor)
        var nameBuffer = [CChar](repeating: 0, count: 256)
        _ = driver.cuDeviceGetName(&nameBuffer, Int32(nameBuffer.count), handle)
        name = String(cString: nameBuffer)
        // The primary context is the one the CUDA runtime (and so cuBLAS) uses too.
        var context: CUcontext?
        try check(driver.cuDevicePrimaryCtxRetain(&context, handle), "cuDevicePrimaryCtxRetain")
        try check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")

        var cublas = SwiftGANCuBLAS()
        guard swiftgan_load_cublas(&cublas, nil, &error, error.count) == 0 else {
            throw CUDAError.unavailable(String(cString: error))
        }
        self.cublas = cublas
        var blas: cublasHandle_t?
        let created = cublas.cublasCreate(&blas)
        guard created == 0, let blas else {
            throw CUDAError.call("cublasCreate", code: created, message: "cuBLAS could not start")
        }
        blasHandle = blas

        let ptx = try CUDACompiler().ptx(architecture: architecture)
        var module: CUmodule?
        try check(driver.cuModuleLoadData(&module, ptx), "cuModuleLoadData")
        var functions: [CUDAKernel: CUfunction] = [:]
        for kernel in CUDAKernel.allCases {
            var function: CUfunction?
            try check(
                driver.cuModuleGetFunction(&function, module, kernel.rawValue),
                "cuModuleGetFunction(\(kernel.rawValue))")
            functions[kernel] = function
        }
        self.functions = functions
    }

    private static func message(_ driver: SwiftGANDriver, _ status: CUresult) -> String {
        var text: UnsafePointer<CChar>?
        _ = driver.cuGetErrorString(status, &text)
        return text.map { String(cString: $0) } ?? "unknown error"
    }

    /// Ends the process on a CUDA failure inside an operation (see the type's comment).
    private func fail(_ error: CUDAError) -> Never {
        fputs("error: \(error)\n", stderr)  // a failed write must not hide the exit
        exit(1)
    }

    private func check(_ status: CUresult, _ call: String) {
        guard status != 0 else { return }
        fail(.call(call, code: status, message: Self.message(driver, status)))
    }

    // MARK: Memory

    /// Rounds to 64 floats (256 bytes, cuMemAlloc's alignment) so near-equal sizes share a cache bucket.
    func allocate(_ count: Int) -> (address: UInt, capacity: Int) {
        let capacity = max(64, (count + 63) & ~63)
        lock.lock()
        defer { lock.unlock() }
        if let address = free[capacity]?.popLast() { return (address, capacity) }
        var pointer: CUdeviceptr = 0
        if driver.cuMemAlloc(&pointer, capacity * 4) != 0 {
            // Give the cached blocks back and try once more before giving up.
            for (_, blocks) in free { for block in blocks { _ = driver.cuMemFree(CUdeviceptr(block)) } }
            free = [:]
            if driver.cuMemAlloc(&pointer, capacity * 4) != 0 {
                var (available, total) = (0, 0)
                _ = driver.cuMemGetInfo(&available, &total)
                fail(.outOfMemory(requestedBytes: capacity * 4, freeBytes: available, totalBytes: total))
            }
        }
        return (UInt(pointer), capacity)
    }

    func release(_ address: UInt, capacity: Int) {
        lock.lock()
        defer { lock.unlock() }
        free[capacity, default: []].append(address)
    }

    func fill(_ y: Tensor, with value: Float) {
        check(driver.cuMemsetD32(address(y), value.bitPattern, y.count), "cuMemsetD32")
    }

    func copy(_ x: Tensor, into y: Tensor) {
        check(driver.cuMemcpyDtoD(address(y), address(x), y.count * 4), "cuMemcpyDtoD")
    }

    func upload(_ host: UnsafePointer<Float>, into y: Tensor) {
        check(driver.cuMemcpyHtoD(address(y), host, y.count * 4), "cuMemcpyHtoD")
    }

    func download(_ x: Tensor, into host: UnsafeMutablePointer<Float>) {
        check(driver.cuMemcpyDtoH(host, address(x), x.count * 4), "cuMemcpyDtoH")
    }

    func synchronize() throws {
        let status = driver.cuCtxSynchronize()
        guard status == 0 else {
            throw CUDAError.call("cuCtxSynchronize", code: status, message: Self.message(driver, status))
        }
    }

    private func address(_ x: Tensor) -> CUdeviceptr { CUdeviceptr(x.storage.address) + CUdeviceptr(x.offset * 4) }

    /// Small host arrays a kernel reads (labels, per-channel factors), copied into device memory.
    private func temporary(_ values: [Float]) -> Tensor {
        let t = Tensor(uninitialized: [values.count], backend: self)
        values.withUnsafeBufferPointer { upload($0.baseAddress!, into: t) }
        return t
    }

    /// Int32 values carried in float-sized slots (the kernels read them as `int`).
    private func temporary(_ values: [Int]) -> Tensor {
        temporary(values.map { Float(bitPattern: UInt32(bitPattern: Int32($0))) })
    }

    /// Runs a kernel that writes `count` doubles into a device buffer, and reads them back.
    private func doubles(_ count: Int, _ body: (Tensor) -> Void) -> [Double] {
        let buffer = Tensor(uninitialized: [2 * count], backend: self)
        body(buffer)
        var result = [Double](repeating: 0, count: count)
        result.withUnsafeMutableBytes { download(buffer, into: $0.baseAddress!.assumingMemoryBound(to: Float.self)) }
        return result
    }

    // MARK: Launching

    /// A kernel argument: each is passed from an 8-byte slot (ints and floats in its low bytes: x86-64 and
    /// the GPU are little-endian), matching the kernels' `long long`, pointer, `int` and `float` parameters.
    private enum Argument {
        case tensor(Tensor), int(Int), int32(Int), float(Float)

        /// The letter of `CUDAKernel.parameters` this argument fills.
        var kind: Character {
            switch self {
            case .tensor: "p"
            case .int: "l"
            case .int32: "i"
            case .float: "f"
            }
        }
    }

    /// Launches `kernel` over `count` elements (grid-stride loops), or with `blocks` blocks of the reduction
    /// size when given (the one-block-per-row and one-block reductions).
    private func launch(_ kernel: CUDAKernel, count: Int = 0, blocks: Int? = nil, _ arguments: [Argument]) {
        let threads = blocks == nil ? 256 : CUDAKernels.reductionThreads
        let grid = blocks ?? min(max((count + threads - 1) / threads, 1), 65535)
        guard grid > 0 else { return }
        precondition(
            String(arguments.map(\.kind)) == kernel.parameters,
            "\(kernel.rawValue) takes (\(kernel.parameters)), launched with (\(String(arguments.map(\.kind))))")
        var slots: [UInt64] = arguments.map { argument in
            switch argument {
            case let .tensor(t): address(t)
            case let .int(v): UInt64(bitPattern: Int64(v))
            case let .int32(v): UInt64(UInt32(bitPattern: Int32(v)))
            case let .float(v): UInt64(v.bitPattern)
            }
        }
        let status = slots.withUnsafeMutableBufferPointer { buffer in
            var parameters: [UnsafeMutableRawPointer?] = (0..<buffer.count).map {
                UnsafeMutableRawPointer(buffer.baseAddress! + $0)
            }
            return parameters.withUnsafeMutableBufferPointer {
                driver.cuLaunchKernel(
                    functions[kernel]!, UInt32(grid), 1, 1, UInt32(threads), 1, 1, 0, nil, $0.baseAddress, nil)
            }
        }
        check(status, "cuLaunchKernel(\(kernel.rawValue))")
    }

    // MARK: Elementwise

    func unary(_ operation: UnaryOperation, _ x: Tensor, into y: Tensor) {
        let (code, a, b): (Int, Float, Float) =
            switch operation {
            case let .affine(scale, shift): (0, scale, shift)
            case .square: (1, 0, 0)
            case let .power(p): (2, p, 0)
            case .squareRoot: (3, 0, 0)
            case let .leakyRelu(slope): (4, slope, 0)
            case .tanh: (5, 0, 0)
            case .sigmoid: (6, 0, 0)
            case let .clamp(low, high): (7, low, high)
            }
        launch(.unary, count: x.count, [.int32(code), .float(a), .float(b), .tensor(x), .tensor(y), .int(x.count)])
    }

    func binary(_ operation: BinaryOperation, _ a: Tensor, _ b: Tensor, into y: Tensor) {
        let (code, slope): (Int, Float) =
            switch operation {
            case .add: (0, 0)
            case .subtract: (1, 0)
            case .multiply: (2, 0)
            case .divide: (3, 0)
            case let .leakyReluGradient(slope): (4, slope)
            case .tanhGradient: (5, 0)
            case .sigmoidGradient: (6, 0)
            }
        launch(
            .binary, count: a.count, [.int32(code), .float(slope), .tensor(a), .tensor(b), .tensor(y), .int(a.count)])
    }

    func divide(_ x: Tensor, byScalar s: Tensor, into y: Tensor) {
        launch(.divideByScalar, count: x.count, [.tensor(x), .tensor(s), .tensor(y), .int(x.count)])
    }

    // MARK: Reductions and broadcasts

    func sumRows(_ x: Tensor, rows: Int, into y: Tensor) {
        launch(.sumRows, blocks: rows, [.tensor(x), .int(x.count / max(rows, 1)), .tensor(y)])
    }

    func expandRows(_ v: Tensor, rows: Int, into y: Tensor) {
        launch(.expandRows, count: y.count, [.tensor(v), .int(y.count / max(rows, 1)), .tensor(y), .int(y.count)])
    }

    func dot(_ a: Tensor, _ b: Tensor) -> Double {
        doubles(1) { launch(.dot, blocks: 1, [.tensor(a), .tensor(b), .int(a.count), .tensor($0)]) }[0]
    }

    // MARK: Channels

    func channels(_ operation: ChannelOperation, _ x: Tensor, _ v: Tensor, layout: ChannelLayout, into y: Tensor) {
        launch(
            .channels, count: x.count,
            [
                .int32(operation == .add ? 0 : 1), .tensor(x), .tensor(v), .tensor(y), .int(layout.channels),
                .int(layout.spatial), .int(x.count),
            ])
    }

    func sumChannels(_ x: Tensor, layout: ChannelLayout, into y: Tensor) {
        launch(
            .sumChannels, blocks: layout.channels,
            [.tensor(x), .int(layout.batch), .int(layout.channels), .int(layout.spatial), .tensor(y)])
    }

    func expandChannels(_ v: Tensor, layout: ChannelLayout, into y: Tensor) {
        launch(
            .expandChannels, count: y.count,
            [.tensor(v), .tensor(y), .int(layout.channels), .int(layout.spatial), .int(y.count)])
    }

    func copyChannels(_ x: Tensor, into y: Tensor, batch: Int, spatial: Int, offset: Int, toward: Bool) {
        let plane = max(batch * spatial, 1)
        let moved = toward ? x.count : y.count
        launch(
            .copyChannels, count: moved,
            [
                .tensor(x), .tensor(y), .int(batch), .int(spatial), .int(x.count / plane), .int(y.count / plane),
                .int(offset), .int32(toward ? 1 : 0),
            ])
    }

    func gatherRows(_ table: Tensor, indices: [Int], into y: Tensor) {
        let rows = temporary(indices)
        launch(
            .gatherRows, count: y.count,
            [.tensor(table), .tensor(rows), .tensor(y), .int(table.shape[1]), .int(y.count)])
    }

    func scatterAddRows(_ values: Tensor, indices: [Int], into y: Tensor) {
        let rows = temporary(indices)
        launch(
            .scatterAddRows, count: y.count,
            [
                .tensor(values), .tensor(rows), .int(indices.count), .tensor(y), .int(values.shape[1]), .int(y.count),
            ])
    }

    // MARK: Linear algebra and convolution

    /// Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS gets B first, then A.
    func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, _ a: Tensor, _ b: Tensor, beta: Float,
        _ c: Tensor
    ) {
        var (alpha, beta) = (alpha, beta)
        let status = cublas.cublasSgemm(
            blasHandle, transposeB ? Int32(SWIFTGAN_CUBLAS_OP_T) : Int32(SWIFTGAN_CUBLAS_OP_N),
            transposeA ? Int32(SWIFTGAN_CUBLAS_OP_T) : Int32(SWIFTGAN_CUBLAS_OP_N),
            Int32(n), Int32(m), Int32(k), &alpha,
            UnsafePointer(bitPattern: UInt(address(b))), Int32(transposeB ? k : n),
            UnsafePointer(bitPattern: UInt(address(a))), Int32(transposeA ? m : k), &beta,
            UnsafeMutablePointer(bitPattern: UInt(address(c))), Int32(n))
        if status != 0 { fail(.call("cublasSgemm", code: status, message: "cuBLAS status \(status)")) }
    }

    /// The geometry's integers as kernel arguments, in the kernels' order.
    private func geometryArguments(_ g: ConvGeometry, batch: Int) -> [Argument] {
        [g.inputChannels, g.inputHeight, g.inputWidth, g.kernel, g.stride, g.padding, g.outputHeight, g.outputWidth]
            .reduce(into: [.int32(batch)]) { $0.append(.int32($1)) }
    }

    private func im2col(_ x: Tensor, batch: Int, geometry g: ConvGeometry, into columns: Tensor) {
        launch(.im2col, count: columns.count, [.tensor(x), .tensor(columns)] + geometryArguments(g, batch: batch))
    }

    /// (A, B, S) → (B, A, S): NCHW ↔ the GEMM layout (C, N·H·W).
    private func swapOuterAxes(_ x: Tensor, a: Int, b: Int, s: Int, into y: Tensor) {
        launch(.swapOuterAxes, count: a * b * s, [.tensor(x), .tensor(y), .int(a), .int(b), .int(s)])
    }

    /// y[n, c, s] += bias[c], in place.
    private func addBias(_ bias: Tensor, to y: Tensor, batch: Int, channels: Int, run: Int) {
        self.channels(.add, y, bias, layout: ChannelLayout(batch: batch, channels: channels, spatial: run), into: y)
    }

    func convolution(
        _ x: Tensor, _ w: Tensor, bias: Tensor?, geometry g: ConvGeometry, into y: Tensor, keepColumns: Storage?
    ) {
        let batch = x.shape[0]
        // The bias as a kernel of its own after the product (the CPU backend folds it into its layout copy).
        defer { if let bias { addBias(bias, to: y, batch: batch, channels: g.outputChannels, run: g.outputPlane) } }
        if g.coversWholeInput {  // y (N, O) = x (N, C·k·k) · wᵀ
            return gemm(
                transposeA: false, transposeB: true, m: batch, n: g.outputChannels, k: g.patchSize, alpha: 1, x, w,
                beta: 0, y)
        }
        let positions = batch * g.outputPlane
        let columns =
            keepColumns.map { Tensor(shape: [g.patchSize * positions], storage: $0) }
            ?? Tensor(uninitialized: [g.patchSize * positions], backend: self)  // (C·k·k, N·OH·OW)
        let product = Tensor(uninitialized: [g.outputChannels * positions], backend: self)  // (O, N·OH·OW)
        im2col(x, batch: batch, geometry: g, into: columns)
        gemm(
            transposeA: false, transposeB: false, m: g.outputChannels, n: positions, k: g.patchSize, alpha: 1, w,
            columns, beta: 0, product)
        swapOuterAxes(product, a: g.outputChannels, b: batch, s: g.outputPlane, into: y)
    }

    func convolutionInputGradient(
        _ dy: Tensor, _ w: Tensor, bias: Tensor?, geometry g: ConvGeometry, into dx: Tensor
    ) {
        let batch = dy.shape[0]
        defer { if let bias { addBias(bias, to: dx, batch: batch, channels: g.inputChannels, run: g.inputPlane) } }
        if g.coversWholeInput {  // dx (N, C·k·k) = dy (N, O) · w
            return gemm(
                transposeA: false, transposeB: false, m: batch, n: g.patchSize, k: g.outputChannels, alpha: 1, dy, w,
                beta: 0, dx)
        }
        let positions = batch * g.outputPlane
        let gathered = Tensor(uninitialized: [g.outputChannels * positions], backend: self)  // (O, N·OH·OW)
        let columns = Tensor(uninitialized: [g.patchSize * positions], backend: self)  // (C·k·k, N·OH·OW)
        swapOuterAxes(dy, a: batch, b: g.outputChannels, s: g.outputPlane, into: gathered)
        gemm(
            transposeA: true, transposeB: false, m: g.patchSize, n: positions, k: g.outputChannels, alpha: 1, w,
            gathered, beta: 0, columns)
        launch(.col2im, count: dx.count, [.tensor(columns), .tensor(dx)] + geometryArguments(g, batch: batch))
    }

    func convolutionWeightGradient(
        _ x: Tensor, _ dy: Tensor, geometry g: ConvGeometry, into dw: Tensor, columns kept: Storage?
    ) {
        let batch = x.shape[0]
        if g.coversWholeInput {  // dw (O, C·k·k) = dyᵀ (O, N) · x (N, C·k·k)
            return gemm(
                transposeA: true, transposeB: false, m: g.outputChannels, n: g.patchSize, k: batch, alpha: 1, dy, x,
                beta: 0, dw)
        }
        let positions = batch * g.outputPlane
        let gathered = Tensor(uninitialized: [g.outputChannels * positions], backend: self)  // (O, N·OH·OW)
        let columns: Tensor
        if let kept {
            columns = Tensor(shape: [g.patchSize * positions], storage: kept)
        } else {
            columns = Tensor(uninitialized: [g.patchSize * positions], backend: self)
            im2col(x, batch: batch, geometry: g, into: columns)
        }
        swapOuterAxes(dy, a: batch, b: g.outputChannels, s: g.outputPlane, into: gathered)
        gemm(
            transposeA: false, transposeB: true, m: g.outputChannels, n: g.patchSize, k: positions, alpha: 1, gathered,
            columns, beta: 0, dw)
    }

    func keptColumnsCount(geometry: ConvGeometry, batch: Int) -> Int {
        geometry.coversWholeInput ? 0 : geometry.patchSize * batch * geometry.outputPlane
    }

    // MARK: Batch norm

    private func layoutArguments(_ layout: ChannelLayout) -> [Argument] {
        [.int(layout.batch), .int(layout.channels), .int(layout.spatial)]
    }

    func batchNormSums(_ x: Tensor, layout: ChannelLayout) -> [Double] {
        doubles(2 * layout.channels) {
            launch(.batchNormSums, blocks: layout.channels, [.tensor(x)] + layoutArguments(layout) + [.tensor($0)])
        }
    }

    func batchNormApply(
        _ x: Tensor, scale: [Float], shift: [Float], activationSlope: Float?, layout: ChannelLayout, into y: Tensor
    ) {
        let parameters = temporary(scale + shift)
        launch(
            .batchNormApply, count: x.count,
            [.tensor(x), .tensor(parameters), .tensor(y), .int(layout.channels), .int(layout.spatial), .int(x.count)])
        // The activation as a second kernel, in place: fusing it into sg_batch_norm_apply would save a pass here
        // too, but a kernel change could not be run on a GPU when the CPU's fusion was written.
        if let slope = activationSlope { unary(.leakyRelu(slope: slope), y, into: y) }
    }

    func batchNormGradientSums(_ dy: Tensor, _ x: Tensor, mean: [Float], layout: ChannelLayout) -> [Double] {
        let means = temporary(mean)
        return doubles(2 * layout.channels) {
            launch(
                .batchNormGradientSums, blocks: layout.channels,
                [.tensor(dy), .tensor(x), .tensor(means)] + layoutArguments(layout) + [.tensor($0)])
        }
    }

    func batchNormInputGradient(
        _ dy: Tensor, _ x: Tensor, mean: [Float], inverseStd: [Float], scale: [Float], meanDy: [Float],
        meanDyXhat: [Float],
        layout: ChannelLayout, into dx: Tensor
    ) {
        let parameters = temporary(mean + inverseStd + scale + meanDy + meanDyXhat)
        launch(
            .batchNormInputGradient, count: x.count,
            [
                .tensor(dy), .tensor(x), .tensor(parameters), .tensor(dx), .int(layout.channels), .int(layout.spatial),
                .int(x.count),
            ])
    }

    // MARK: Losses

    /// Probabilities outside [0, 1] give NaN here rather than the CPU backend's error: checking them would
    /// cost a host read per loss.
    func binaryCrossEntropy(_ p: Tensor, _ t: Tensor, into y: Tensor) throws {
        launch(.binaryCrossEntropy, blocks: 1, [.tensor(p), .tensor(t), .int(p.count), .tensor(y)])
    }

    func binaryCrossEntropyGradient(_ p: Tensor, _ t: Tensor, _ g: Tensor, into dp: Tensor) {
        launch(
            .binaryCrossEntropyGradient, count: p.count,
            [.tensor(p), .tensor(t), .tensor(g), .tensor(dp), .int(p.count)])
    }

    func binaryCrossEntropyWithLogits(_ x: Tensor, _ t: Tensor, into y: Tensor) {
        launch(.binaryCrossEntropyWithLogits, blocks: 1, [.tensor(x), .tensor(t), .int(x.count), .tensor(y)])
    }

    func binaryCrossEntropyWithLogitsGradient(_ x: Tensor, _ t: Tensor, _ g: Tensor, into dx: Tensor) {
        launch(
            .binaryCrossEntropyWithLogitsGradient, count: x.count,
            [.tensor(x), .tensor(t), .tensor(g), .tensor(dx), .int(x.count)])
    }

    func softmaxCrossEntropy(_ logits: Tensor, labels: [Int], into y: Tensor) {
        let rows = temporary(labels)
        launch(
            .softmaxCrossEntropy, blocks: 1,
            [.tensor(logits), .tensor(rows), .int(logits.shape[0]), .int(logits.shape[1]), .tensor(y)])
    }

    func softmaxCrossEntropyGradient(_ logits: Tensor, labels: [Int], _ g: Tensor, into dx: Tensor) {
        let rows = temporary(labels)
        launch(
            .softmaxCrossEntropyGradient, count: logits.shape[0],
            [
                .tensor(logits), .tensor(rows), .tensor(g), .tensor(dx), .int(logits.shape[0]), .int(logits.shape[1]),
            ])
    }

    func softmax(_ logits: Tensor, into y: Tensor) {
        launch(
            .softmax, count: logits.shape[0],
            [.tensor(logits), .tensor(y), .int(logits.shape[0]), .int(logits.shape[1])])
    }

    // MARK: Optimisers

    @discardableResult
    func update(
        _ rule: OptimizerUpdate, parameters p: Tensor, gradients g: Tensor, state: [Tensor],
        clampingTo range: ClosedRange<Float>?
    ) -> Double {
        // Separate kernels here, not fused into the update as on the CPU: one more read of the gradients for the
        // norm and one more pass over the parameters for the clamp (not yet measured on a GPU).
        let squares = dot(g, g)
        defer { if let range { unary(.clamp(low: range.lowerBound, high: range.upperBound), p, into: p) } }
        switch rule {
        case let .adam(stepSize, beta1, beta2, epsilon, decay, correction2Root):
            launch(
                .adam, count: p.count,
                [
                    .tensor(p), .tensor(g), .tensor(state[0]), .tensor(state[1]), .int(p.count), .float(stepSize),
                    .float(beta1),
                    .float(beta2), .float(epsilon), .float(decay), .float(correction2Root),
                ])
        case let .rmsprop(rate, alpha, epsilon):
            launch(
                .rmsprop, count: p.count,
                [
                    .tensor(p), .tensor(g), .tensor(state[0]), .int(p.count), .float(rate), .float(alpha),
                    .float(epsilon),
                ])
        case let .sgd(rate):
            launch(.sgd, count: p.count, [.tensor(p), .tensor(g), .int(p.count), .float(rate)])
        }
        return squares
    }
}
