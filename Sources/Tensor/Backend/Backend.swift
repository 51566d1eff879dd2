import Foundation

/// Elementwise maps of one tensor.
public enum UnaryOperation: Equatable {
    /// scale · x + shift.
    case affine(scale: Float, shift: Float)
    case square
    case power(Float)
    case squareRoot
    /// x where x > 0, slope · x elsewhere.
    case leakyRelu(slope: Float)
    case tanh
    case sigmoid
    case clamp(low: Float, high: Float)
}

/// Elementwise combinations of two tensors of one shape (a, b).
public enum BinaryOperation: Equatable {
    case add, subtract, multiply, divide
    /// a = upstream gradient, b = the activation's input.
    case leakyReluGradient(slope: Float)
    /// a = upstream gradient, b = the activation's output.
    case tanhGradient, sigmoidGradient
}

/// Per-channel combinations of (N, C, S) with a vector (C).
public enum ChannelOperation: Equatable { case add, multiply }

/// The (N, C, S) view of a tensor: a Linear output (N, C) has S = 1, an image batch (N, C, H, W) has S = H·W.
public struct ChannelLayout: Equatable {
    public let batch: Int, channels: Int, spatial: Int

    public init(batch: Int, channels: Int, spatial: Int) {
        (self.batch, self.channels, self.spatial) = (batch, channels, spatial)
    }

    init(_ operation: String, _ shape: [Int]) throws {
        guard shape.count >= 2 else {
            throw TensorError.shapeMismatch(
                operation: operation, detail: "expected (N, C, ...), got \(describe(shape))")
        }
        self.init(batch: shape[0], channels: shape[1], spatial: shape.dropFirst(2).reduce(1, *))
    }

    /// Calls `body(channel, run)` for every contiguous run of S values, in memory order.
    @inline(__always) func forEachRun(_ body: (Int, Int) -> Void) {
        for n in 0..<batch {
            for c in 0..<channels { body(c, (n * channels + c) * spatial) }
        }
    }

    /// Calls `body(channel, run)` for every run, with the channels split over the compute threads: each
    /// channel's runs are visited by one thread, in batch order, so per-channel sums do not depend on the
    /// thread count.
    @inline(__always) func forEachRunInParallel(_ body: (Int, Int) -> Void) {
        Kernels.parallel(channels, grain: Swift.max(1, 32_768 / Swift.max(batch * spatial, 1))) { piece in
            for n in 0..<batch {
                for c in piece { body(c, (n * channels + c) * spatial) }
            }
        }
    }

    /// Calls `body(channel, run)` for every run, the runs split over the compute threads in memory order: by
    /// samples when there are at least as many as threads. For per-channel maps, whose runs are independent.
    /// A thread then works on the samples it had in the loops before (flat elementwise loops, the GEMMs'
    /// column blocks, im2col), whose values are still in its core's cache: on the development VM a core read
    /// 4 MB another core had just written at 28 GB/s, and its own at 76 GB/s.
    @inline(__always) func forEachRunSplittingBatch(_ body: (Int, Int) -> Void) {
        Kernels.parallel(batch * channels, grain: Swift.max(1, 32_768 / Swift.max(spatial, 1))) { runs in
            for r in runs { body(r % channels, r * spatial) }
        }
    }

    /// The same visit for rows `(N, C)` (spatial 1: BatchNorm1d): `body(channels, row)` for every row's offset in
    /// batch order, with the same split of the channels over the threads. Its loop over a row's channels
    /// vectorises, where a run of one value per call did not.
    @inline(__always) func forEachRowInParallel(_ body: (Range<Int>, Int) -> Void) {
        Kernels.parallel(channels, grain: Swift.max(1, 32_768 / Swift.max(batch, 1))) { piece in
            for n in 0..<batch { body(piece, n * channels) }
        }
    }
}

/// Hyperparameters of one optimiser update over a whole parameter arena.
public enum OptimizerUpdate {
    /// PyTorch's Adam (no AMSGrad): `stepSize` = lr / (1 − β₁ᵗ), `correction2Root` = √(1 − β₂ᵗ).
    case adam(stepSize: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, correction2Root: Float)
    /// PyTorch's RMSprop (not centred, no momentum).
    case rmsprop(learningRate: Float, alpha: Float, epsilon: Float)
    case sgd(learningRate: Float)
}

/// Everything that touches tensor memory, for one device. Operations in `Ops/` check shapes, allocate their
/// results on their inputs' device and record themselves on the tape; the arithmetic happens here. Results
/// are written into tensors the caller allocated on this backend's device (`into:`).
///
/// Per-channel statistics and loss totals that the host needs anyway (batch-norm sums, which SyncBN
/// reduces over MPI) come back as host arrays; everything else stays on the device.
public protocol Backend: AnyObject {
    var device: Device { get }

    // MARK: Memory

    /// At least `count` floats of device memory: its address and capacity.
    func allocate(_ count: Int) -> (address: UInt, capacity: Int)
    func release(_ address: UInt, capacity: Int)
    func fill(_ y: Tensor, with value: Float)
    /// Copies between tensors of this device (equal counts).
    func copy(_ x: Tensor, into y: Tensor)
    func upload(_ host: UnsafePointer<Float>, into y: Tensor)
    func download(_ x: Tensor, into host: UnsafeMutablePointer<Float>)
    /// Waits until every operation issued so far has finished (timing, host reads).
    func synchronize() throws

    // MARK: Elementwise

    func unary(_ operation: UnaryOperation, _ x: Tensor, into y: Tensor)
    func binary(_ operation: BinaryOperation, _ a: Tensor, _ b: Tensor, into y: Tensor)
    /// y = x / s for a one-element s.
    func divide(_ x: Tensor, byScalar s: Tensor, into y: Tensor)

    // MARK: Reductions and broadcasts

    /// y[n] = Σ of row n of x viewed as (rows, width); y has `rows` elements (one for a full sum).
    func sumRows(_ x: Tensor, rows: Int, into y: Tensor)
    /// Row n of y, viewed as (rows, width), filled with v[n].
    func expandRows(_ v: Tensor, rows: Int, into y: Tensor)
    /// Σ a·b over all elements (equal counts), in Double, on the host.
    func dot(_ a: Tensor, _ b: Tensor) -> Double

    // MARK: Channels (N, C, S)

    func channels(_ operation: ChannelOperation, _ x: Tensor, _ v: Tensor, layout: ChannelLayout, into y: Tensor)
    func sumChannels(_ x: Tensor, layout: ChannelLayout, into y: Tensor)
    func expandChannels(_ v: Tensor, layout: ChannelLayout, into y: Tensor)
    /// Copies the (N, Cx, S) tensor x into channels `offset ..< offset + Cx` of the (N, Cy, S) tensor y
    /// (`toward: true`), or channels `offset ..< offset + Cy` of x into y (`toward: false`).
    func copyChannels(_ x: Tensor, into y: Tensor, batch: Int, spatial: Int, offset: Int, toward: Bool)
    /// y (N, D) = rows `indices` of table (V, D).
    func gatherRows(_ table: Tensor, indices: [Int], into y: Tensor)
    /// y (V, D) += row n of values (N, D) at row indices[n] (y must be zeroed first).
    func scatterAddRows(_ values: Tensor, indices: [Int], into y: Tensor)

    // MARK: Linear algebra and convolution

    /// c (m×n) = alpha · op(a) (m×k) · op(b) (k×n) + beta · c, row-major.
    func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, _ a: Tensor, _ b: Tensor, beta: Float,
        _ c: Tensor)
    /// y = conv(x, w) + bias per output channel (none when nil); `keepColumns` receives the unfolded input for
    /// the weight gradient, when given.
    func convolution(
        _ x: Tensor, _ w: Tensor, bias: Tensor?, geometry: ConvGeometry, into y: Tensor, keepColumns: Storage?)
    /// dx = convᵀ(dy, w) + bias per channel of dx (none when nil): conv's input gradient and ConvTranspose2d's
    /// forward pass.
    func convolutionInputGradient(_ dy: Tensor, _ w: Tensor, bias: Tensor?, geometry: ConvGeometry, into dx: Tensor)
    /// dw from x (or the columns the forward pass kept) and dy.
    func convolutionWeightGradient(
        _ x: Tensor, _ dy: Tensor, geometry: ConvGeometry, into dw: Tensor, columns: Storage?)
    /// Floats of the unfolded input `keepColumns` needs for `batch` samples (0: this backend keeps none).
    func keptColumnsCount(geometry: ConvGeometry, batch: Int) -> Int

    // MARK: Batch norm

    /// [Σx (C), Σx² (C)] per channel, in Double.
    func batchNormSums(_ x: Tensor, layout: ChannelLayout) -> [Double]
    /// y = x · scale[c] + shift[c], then, with an activation slope, leakyRelu(y, slope) (0: ReLU) in the same
    /// pass: batch norm and the activation after it read and write the batch once instead of twice.
    func batchNormApply(
        _ x: Tensor, scale: [Float], shift: [Float], activationSlope: Float?, layout: ChannelLayout, into y: Tensor)
    /// [Σdy (C), Σdy·(x − mean) (C)] per channel, in Double.
    func batchNormGradientSums(_ dy: Tensor, _ x: Tensor, mean: [Float], layout: ChannelLayout) -> [Double]
    /// dx = scale[c] · (dy − meanDy[c] − x̂ · meanDyXhat[c]), x̂ = (x − mean[c]) · inverseStd[c].
    func batchNormInputGradient(
        _ dy: Tensor, _ x: Tensor, mean: [Float], inverseStd: [Float], scale: [Float], meanDy: [Float],
        meanDyXhat: [Float],
        layout: ChannelLayout, into dx: Tensor)

    // MARK: Losses (means over all elements or rows, into a one-element y)

    /// PyTorch's BCELoss; throws where p is not a probability (where the backend can tell).
    func binaryCrossEntropy(_ p: Tensor, _ t: Tensor, into y: Tensor) throws
    /// dp = g · (p − t) / max(p·(1 − p), 1e-12) / n, g one element.
    func binaryCrossEntropyGradient(_ p: Tensor, _ t: Tensor, _ g: Tensor, into dp: Tensor)
    func binaryCrossEntropyWithLogits(_ x: Tensor, _ t: Tensor, into y: Tensor)
    /// dx = g · (σ(x) − t) / n.
    func binaryCrossEntropyWithLogitsGradient(_ x: Tensor, _ t: Tensor, _ g: Tensor, into dx: Tensor)
    func softmaxCrossEntropy(_ logits: Tensor, labels: [Int], into y: Tensor)
    /// d logits = g · (softmax − onehot) / N.
    func softmaxCrossEntropyGradient(_ logits: Tensor, labels: [Int], _ g: Tensor, into dx: Tensor)
    func softmax(_ logits: Tensor, into y: Tensor)

    // MARK: Optimisers

    /// One optimiser step over every parameter, in place, from `gradients` (same count) and the optimiser's
    /// state tensors: `rule`, then each parameter clamped to `range` when one is given (WGAN's weight
    /// clipping). Returns Σ g² over the gradients, the gradient norm the trainer logs. The clamp and the sum
    /// ride on the update's own pass over memory rather than taking a pass each.
    @discardableResult
    func update(
        _ rule: OptimizerUpdate, parameters: Tensor, gradients: Tensor, state: [Tensor],
        clampingTo range: ClosedRange<Float>?
    ) -> Double
}

/// One backend per device, made on first use.
public enum Backends {
    nonisolated(unsafe) private static var made: [Device: Backend] = [.cpu: CPUBackend.shared]
    private static let lock = NSLock()

    public static func backend(for device: Device) throws -> Backend {
        lock.lock()
        defer { lock.unlock() }
        if let backend = made[device] { return backend }
        let backend: Backend =
            switch device {
            case .cpu: CPUBackend.shared
            case let .cuda(ordinal): try CUDABackend(ordinal: ordinal)
            }
        made[device] = backend
        return backend
    }
}
