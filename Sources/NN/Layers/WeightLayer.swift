/// A layer with a weight and an optional bias whose weight may be reparametrised by spectral norm:
/// the base of Linear, Conv2d and ConvTranspose2d.
open class WeightLayer: Module {
    /// The trained weight: `weight`, or `weight_orig` under spectral norm.
    public let weight: Parameter
    public let bias: Parameter?
    /// Set by `spectralNorm(_:)`.
    public internal(set) var spectralNormalization: SpectralNormalization?

    /// A weight of `weightShape` and, when `biasCount` is given, a bias, both drawn as PyTorch initialises
    /// them: U(−1/√fanIn, 1/√fanIn).
    init(weightShape: [Int], biasCount: Int?, fanIn: Int, generator: RandomGenerator) {
        let w = Tensor(uninitialized: weightShape)
        Initializer.pytorchDefault(w, fanIn: fanIn, generator: generator)
        weight = Parameter(w)
        bias = biasCount.map { count in
            let b = Tensor(uninitialized: [count])
            Initializer.pytorchDefault(b, fanIn: fanIn, generator: generator)
            return Parameter(b)
        }
        super.init()
        register(weight, as: "weight")
        if let bias { register(bias, as: "bias") }
    }

    public override var repeatsTrainingForward: Bool { spectralNormalization == nil && super.repeatsTrainingForward }

    /// The weight the forward pass uses: W, or W / σ(W) under spectral norm (updating u and v in training).
    public func effectiveWeight() throws -> Tensor {
        guard let spectralNormalization else { return weight.value }
        return try spectralNormalization.normalize(weight.value, training: isTraining)
    }
}

/// y = x·Wᵀ + b. Weight `(out, in)`, bias `(out)`; input `(N, in)`, output `(N, out)`.
public final class Linear: WeightLayer {
    public let inFeatures: Int
    public let outFeatures: Int

    public init(
        _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: RandomGenerator = DefaultGenerator.shared
    ) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        super.init(
            weightShape: [outFeatures, inFeatures], biasCount: bias ? outFeatures : nil, fanIn: inFeatures,
            generator: generator)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == inFeatures else {
            throw TensorError.shapeMismatch(
                operation: "Linear(\(inFeatures), \(outFeatures))",
                detail: "expected input (N, \(inFeatures)), got \(describe(x.shape))")
        }
        guard let bias else { return try matmul(x, effectiveWeight(), transposeB: true) }
        return try linear(x, effectiveWeight(), bias: bias.value)
    }
}

/// PyTorch's Conv2d with a square kernel. Weight `(out, in, k, k)`; input `(N, in, H, W)`.
public final class Conv2d: WeightLayer {
    public let stride: Int
    public let padding: Int

    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
        generator: RandomGenerator = DefaultGenerator.shared
    ) {
        self.stride = stride
        self.padding = padding
        super.init(
            weightShape: [outChannels, inChannels, kernelSize, kernelSize], biasCount: bias ? outChannels : nil,
            fanIn: inChannels * kernelSize * kernelSize, generator: generator)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try conv2d(x, effectiveWeight(), bias: bias?.value, stride: stride, padding: padding)
    }
}

/// PyTorch's ConvTranspose2d with a square kernel and no output padding. Weight `(in, out, k, k)`.
public final class ConvTranspose2d: WeightLayer {
    public let stride: Int
    public let padding: Int

    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
        generator: RandomGenerator = DefaultGenerator.shared
    ) {
        self.stride = stride
        self.padding = padding
        // PyTorch computes fan_in from dimension 1 of the weight, which for a transposed conv is `out`.
        super.init(
            weightShape: [inChannels, outChannels, kernelSize, kernelSize], biasCount: bias ? outChannels : nil,
            fanIn: outChannels * kernelSize * kernelSize, generator: generator)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try convTranspose2d(x, effectiveWeight(), bias: bias?.value, stride: stride, padding: padding)
    }
}
