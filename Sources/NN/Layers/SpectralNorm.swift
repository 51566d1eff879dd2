import Foundation

/// Spectral normalisation as `torch.nn.utils.spectral_norm` does it: the layer's weight becomes
/// `weight_orig / σ`, σ estimated as uᵀ·W·v with one power iteration per training forward; u and v are
/// buffers (`weight_u`, `weight_v`), and evaluation uses them as stored.
public final class SpectralNormalization {
    let u: Buffer  // (out)
    let v: Buffer  // (in·k·k)
    public let epsilon: Float
    public let powerIterations: Int

    init(u: Buffer, v: Buffer, epsilon: Float, powerIterations: Int) {
        self.u = u
        self.v = v
        self.epsilon = epsilon
        self.powerIterations = powerIterations
    }

    /// W / σ(W), differentiable in W; u and v are constants of the step (PyTorch clones them).
    func normalize(_ weight: Tensor, training: Bool) throws -> Tensor {
        let rows = weight.shape[0], columns = weight.count / rows
        let (u, v) = (self.u.tensor, self.v.tensor)
        if training {
            let (backend, w) = (weight.backend, weight.detached())
            for _ in 0..<powerIterations {
                // v ← normalize(Wᵀu), u ← normalize(W·v)
                backend.gemm(transposeA: true, transposeB: false, m: columns, n: 1, k: rows, alpha: 1, w, u, beta: 0, v)
                normalizeInPlace(v)
                backend.gemm(
                    transposeA: false, transposeB: false, m: rows, n: 1, k: columns, alpha: 1, w, v, beta: 0, u)
                normalizeInPlace(u)
            }
        }
        return try Self.divideBySigma(weight, u: u, v: v)
    }

    /// W / σ with σ = uᵀ·W·v, u and v constants, as one operation on the tape. Its gradient,
    /// G/σ − (⟨G, W⟩/σ²)·u·vᵀ, takes one pass over the weight for ⟨G, W⟩ and one for the rest. Composed of a
    /// matmul, a product, a sum and a division, it took a pass each, plus one to add W's two gradients:
    /// SNGAN's 6,272×1,024 layer is 25 MB a pass. A second derivative (`createGraph`) takes the composed path.
    static func divideBySigma(_ weight: Tensor, u: Tensor, v: Tensor) throws -> Tensor {
        let (backend, rows) = (weight.backend, weight.shape[0])
        let columns = weight.count / rows
        func sigma(_ weight: Tensor) throws -> Tensor {
            let weightTimesV = try matmul(
                weight.reshaped(to: [rows, columns]), v.detached().reshaped(to: [columns, 1]))
            return try multiply(weightTimesV, u.detached().reshaped(to: [rows, 1])).sum()  // (rows, 1) → ()
        }
        let s = try GradientMode.withoutGradients { try sigma(weight) }
        let y = Tensor(uninitialized: weight.shape, backend: backend)
        backend.divide(weight, byScalar: s, into: y)
        return Tensor.record(y, operation: "divideBySigma", inputs: [weight]) { g, node in
            let w = node.inputs[0]
            guard !GradientMode.isEnabled else {
                let composed = try divide(w, byScalar: sigma(w))
                return try grad(of: [composed], withRespectTo: [w], seeds: [g], createGraph: true)
            }
            let (sigmaValue, inner) = (s.item, Float(backend.dot(g, w)))  // σ, ⟨G, W⟩
            let dw = node.gradientDestination(0) ?? Tensor(uninitialized: w.shape, backend: backend)
            backend.divide(g, byScalar: s, into: dw)
            // dw += −(⟨G, W⟩/σ²)·u·vᵀ: a rank-one GEMM onto it.
            backend.gemm(
                transposeA: false, transposeB: false, m: rows, n: columns, k: 1,
                alpha: -inner / (sigmaValue * sigmaValue), u, v, beta: 1, dw)
            return [dw]
        }
    }

    /// x / max(‖x‖, ε), as `torch.nn.functional.normalize`.
    private func normalizeInPlace(_ x: Tensor) { normalizeToUnitLength(x, epsilon: epsilon) }
}

/// x ← x / max(‖x‖, ε) in place, as `torch.nn.functional.normalize` (the norm is read on the host).
private func normalizeToUnitLength(_ x: Tensor, epsilon: Float) {
    let norm = Float(x.backend.dot(x, x).squareRoot())
    x.backend.unary(.affine(scale: 1 / max(norm, epsilon), shift: 0), x, into: x)
}

/// Puts `layer` under spectral norm: `weight` becomes `weight_orig`, and buffers `weight_u` `(out)` and
/// `weight_v` `(in·k·k)` start as normalised N(0, 1) draws. Returns the layer, as PyTorch does.
@discardableResult
public func spectralNorm<Layer: WeightLayer>(
    _ layer: Layer, powerIterations: Int = 1, epsilon: Float = 1e-12,
    generator: RandomGenerator = DefaultGenerator.shared
) throws -> Layer {
    guard layer.spectralNormalization == nil, let weight = layer.unregisterParameter(named: "weight") else {
        throw ModuleError.invalidConfiguration("spectral norm is already applied to this layer")
    }
    guard !(layer is ConvTranspose2d) else {
        throw ModuleError.invalidConfiguration("spectral norm of ConvTranspose2d (dim 1) is not supported")
    }
    layer.register(weight, as: "weight_orig")
    let rows = weight.shape[0], columns = weight.value.count / rows
    let u = Tensor(uninitialized: [rows]), v = Tensor(uninitialized: [columns])
    generator.fillNormal(u)
    generator.fillNormal(v)
    let normalization = SpectralNormalization(
        u: Buffer(.float32(u)), v: Buffer(.float32(v)), epsilon: epsilon, powerIterations: powerIterations)
    for x in [u, v] { normalizeToUnitLength(x, epsilon: epsilon) }
    layer.register(normalization.u, as: "weight_u")
    layer.register(normalization.v, as: "weight_v")
    layer.spectralNormalization = normalization
    return layer
}
