import Foundation

/// Every operation's backward rule, in one place. A rule receives the gradient with respect to the node's
/// output and returns one gradient per input (nil where that input needs none). Rules are written with
/// the recorded operations themselves, so with `createGraph: true` they are differentiable again; the
/// fused rules at the end (batch norm, the cross-entropy losses) are first-order only and say so.
enum Derivatives {
    // MARK: - Arithmetic

    static let ofAdd: BackwardRule = { g, _ in [g, g] }

    static let ofSubtract: BackwardRule = { g, node in [g, node.needs(1) ? g.negated() : nil] }

    static let ofMultiply: BackwardRule = { g, node in
        let (a, b) = (node.inputs[0], node.inputs[1])
        return [
            node.needs(0) ? try multiply(g, b) : nil,
            node.needs(1) ? try multiply(g, a) : nil,
        ]
    }

    static let ofDivide: BackwardRule = { g, node in
        let (a, b) = (node.inputs[0], node.inputs[1])
        return [
            node.needs(0) ? try divide(g, b) : nil,
            // d(a/b)/db = −a / b²
            node.needs(1) ? try divide(multiply(g, a), multiply(b, b)).negated() : nil,
        ]
    }

    static let ofDivideByScalar: BackwardRule = { g, node in
        let (x, s) = (node.inputs[0], node.inputs[1])
        return [
            node.needs(0) ? try divide(g, byScalar: s) : nil,
            // d(x/s)/ds = −Σ g·x / s²
            node.needs(1)
                ? try divide(multiply(g, x).sum().reshaped(to: s.shape), multiply(s, s)).negated()
                : nil,
        ]
    }

    static func ofScale(_ c: Float) -> BackwardRule { { g, _ in [g.scaled(by: c)] } }

    static let ofShift: BackwardRule = { g, _ in [g] }

    static func ofPow(_ p: Float) -> BackwardRule {
        { g, node in
            let x = node.inputs[0]
            let slope = p == 2 ? x.scaled(by: 2) : x.pow(p - 1).scaled(by: p)
            return [try multiply(g, slope)]
        }
    }

    static let ofSquareRoot: BackwardRule = { g, node in [try divide(g.scaled(by: 0.5), node.result())] }

    // MARK: - Activations

    static func ofLeakyRelu(_ slope: Float) -> BackwardRule {
        { g, node in [leakyReluGradient(g, input: node.inputs[0], slope: slope)] }
    }

    /// The mask does not depend smoothly on x, so only the upstream gradient has a derivative.
    static func ofLeakyReluGradient(_ slope: Float) -> BackwardRule {
        { g, node in [leakyReluGradient(g, input: node.inputs[1], slope: slope), nil] }
    }

    static let ofTanh: BackwardRule = { g, node in [tanhGradient(g, output: try node.result())] }

    /// r = u·(1 − y²): dr/du = 1 − y², dr/dy = −2·u·y.
    static let ofTanhGradient: BackwardRule = { g, node in
        let (u, y) = (node.inputs[0], node.inputs[1])
        return [
            node.needs(0) ? tanhGradient(g, output: y) : nil,
            node.needs(1) ? try multiply(multiply(g, u), y.scaled(by: -2)) : nil,
        ]
    }

    static let ofSigmoid: BackwardRule = { g, node in [sigmoidGradient(g, output: try node.result())] }

    /// r = u·y·(1 − y): dr/du = y·(1 − y), dr/dy = u·(1 − 2y).
    static let ofSigmoidGradient: BackwardRule = { g, node in
        let (u, y) = (node.inputs[0], node.inputs[1])
        return [
            node.needs(0) ? sigmoidGradient(g, output: y) : nil,
            node.needs(1) ? try multiply(multiply(g, u), y.scaled(by: -2).shifted(by: 1)) : nil,
        ]
    }

    // MARK: - Linear algebra

    /// C = op(A)·op(B). Each case is the matrix-calculus identity for its transposes.
    static func ofMatmul(transposeA: Bool, transposeB: Bool) -> BackwardRule {
        { g, node in
            let (a, b) = (node.inputs[0], node.inputs[1])
            let needA = node.needs(0), needB = node.needs(1)
            // Each gradient is written into the leaf's arena, added to it, or allocated (Node's offers).
            func product(_ x: Tensor, _ y: Tensor, _ tx: Bool, _ ty: Bool, for index: Int) throws -> Tensor {
                let adding = node.gradientAccumulator(index)
                return try matmul(
                    x, y, transposeA: tx, transposeB: ty, into: adding ?? node.gradientDestination(index),
                    accumulating: adding != nil)
            }
            switch (transposeA, transposeB) {
            case (false, false):  // dA = G·Bᵀ, dB = Aᵀ·G
                return [
                    needA ? try product(g, b, false, true, for: 0) : nil,
                    needB ? try product(a, g, true, false, for: 1) : nil,
                ]
            case (false, true):  // C = A·Bᵀ: dA = G·B, dB = Gᵀ·A
                return [
                    needA ? try product(g, b, false, false, for: 0) : nil,
                    needB ? try product(g, a, true, false, for: 1) : nil,
                ]
            case (true, false):  // C = Aᵀ·B: dA = B·Gᵀ, dB = A·G
                return [
                    needA ? try product(b, g, false, true, for: 0) : nil,
                    needB ? try product(a, g, false, false, for: 1) : nil,
                ]
            case (true, true):  // C = Aᵀ·Bᵀ: dA = Bᵀ·Gᵀ, dB = Gᵀ·Aᵀ
                return [
                    needA ? try product(b, g, true, true, for: 0) : nil,
                    needB ? try product(g, a, true, true, for: 1) : nil,
                ]
            }
        }
    }

    /// `linear`'s x·Wᵀ + b: the matmul's gradients for x and W, the bias's summed over rows.
    static let ofLinear: BackwardRule = { g, node in
        try ofMatmul(transposeA: false, transposeB: true)(g, node) + biasGradient(g, node)
    }

    // MARK: - Per-channel operations

    static let ofAddChannels: BackwardRule = { g, node in [g, node.needs(1) ? try sumChannels(g) : nil] }

    static let ofMultiplyChannels: BackwardRule = { g, node in
        let (x, v) = (node.inputs[0], node.inputs[1])
        return [
            node.needs(0) ? try multiplyChannels(g, v) : nil,
            node.needs(1) ? try sumChannels(multiply(g, x)) : nil,
        ]
    }

    static func ofSumChannels(_ shape: [Int]) -> BackwardRule { { g, _ in [try expandChannels(g, to: shape)] } }

    static let ofExpandChannels: BackwardRule = { g, _ in [try sumChannels(g)] }

    // MARK: - Reductions and shapes

    static func ofSum(_ shape: [Int]) -> BackwardRule { { g, _ in [try g.expanded(to: shape)] } }

    static func ofExpand(_ shape: [Int]) -> BackwardRule { { g, _ in [try g.sum().reshaped(to: shape)] } }

    static func ofSumPerSample(_ shape: [Int]) -> BackwardRule { { g, _ in [try g.expandedPerSample(to: shape)] } }

    static let ofExpandPerSample: BackwardRule = { g, _ in [try g.sumPerSample()] }

    static func ofReshape(_ shape: [Int]) -> BackwardRule { { g, _ in [try g.reshaped(to: shape)] } }

    static func ofNarrow(_ range: Range<Int>, channels: Int) -> BackwardRule {
        { g, _ in [try g.paddedChannels(before: range.lowerBound, after: channels - range.upperBound)] }
    }

    static func ofPadChannels(_ kept: Range<Int>) -> BackwardRule { { g, _ in [try g.narrowed(channels: kept)] } }

    static func ofConcat(_ ranges: [Range<Int>]) -> BackwardRule {
        { g, node in try ranges.indices.map { node.needs($0) ? try g.narrowed(channels: ranges[$0]) : nil } }
    }

    // MARK: - Convolution

    /// y = conv(x, w): dx = convᵀ(dy, w), dw = weightGradient(x, dy). A first-order pass computes dw from the
    /// im2col columns the forward pass kept, when it kept them; with `createGraph` dw is the recorded operation.
    static func ofConvolution(_ geometry: ConvGeometry, columns: Storage? = nil) -> BackwardRule {
        { g, node in
            let (x, w) = (node.inputs[0], node.inputs[1])
            var weightGradient: Tensor? = nil
            if node.needs(1) {
                if let columns, !GradientMode.isEnabled {
                    let dw = x.sibling(geometry.weightShape)
                    x.backend.convolutionWeightGradient(x, g, geometry: geometry, into: dw, columns: columns)
                    weightGradient = dw
                } else {
                    weightGradient = try convolutionWeightGradient(x, g, geometry: geometry)
                }
            }
            return [node.needs(0) ? try convolutionInputGradient(g, w, geometry: geometry) : nil, weightGradient]
                + (try biasGradient(g, node))
        }
    }

    /// A fused bias's gradient (linear, conv2d, convTranspose2d), Σ over samples and positions of g per
    /// channel, when the node has one (its third input); nothing for a node without.
    private static func biasGradient(_ g: Tensor, _ node: Node) throws -> [Tensor?] {
        guard node.inputs.count == 3 else { return [] }
        return [node.needs(2) ? try sumChannels(g) : nil]
    }

    /// r = convᵀ(u, w) is linear in each argument: ⟨G, convᵀ(u, w)⟩ = ⟨conv(G, w), u⟩ = ⟨weightGradient(G, u), w⟩.
    /// In a first-order pass that wants both, G is unfolded once for the two (ConvTranspose2d's backward).
    static func ofConvolutionInputGradient(_ geometry: ConvGeometry) -> BackwardRule {
        { g, node in
            let (u, w) = (node.inputs[0], node.inputs[1])
            if node.needs(0), node.needs(1), let (du, dw) = convolutionSharingColumns(g, w, u, geometry: geometry) {
                return try [du, dw] + biasGradient(g, node)
            }
            return try [
                node.needs(0) ? try convolution(g, w, geometry: geometry) : nil,
                node.needs(1) ? try convolutionWeightGradient(g, u, geometry: geometry) : nil,
            ] + biasGradient(g, node)
        }
    }

    /// r = weightGradient(x, u): ⟨G, r⟩ = ⟨x, convᵀ(u, G)⟩ = ⟨conv(x, G), u⟩.
    static func ofConvolutionWeightGradient(_ geometry: ConvGeometry) -> BackwardRule {
        { g, node in
            let (x, u) = (node.inputs[0], node.inputs[1])
            return [
                node.needs(0) ? try convolutionInputGradient(u, g, geometry: geometry) : nil,
                node.needs(1) ? try convolution(x, g, geometry: geometry) : nil,
            ]
        }
    }

    // MARK: - Embedding

    static func ofGatherRows(_ indices: [Int], rows: Int) -> BackwardRule {
        { g, _ in [try scatterAddRows(g, indices: indices, rows: rows)] }
    }

    static func ofScatterAddRows(_ indices: [Int]) -> BackwardRule { { g, _ in [try gatherRows(g, indices: indices)] } }

    // MARK: - Fused, first-order only

    /// dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy·x̂)), with the means over every replica's batch;
    /// dγ = Σ dy·x̂ and dβ = Σ dy over this replica's batch (they are averaged with the other gradients), or
    /// in reproducible mode over every replica's (like every gradient there).
    static func ofBatchNorm(_ saved: BatchNormSaved) -> BackwardRule {
        { upstream, node in
            guard !GradientMode.isEnabled else { throw TensorError.noSecondDerivative(operation: "batchNorm") }
            // Through the activation first: its output is positive exactly where its input was (slope ≥ 0).
            let g = saved.activation.map { leakyReluGradient(upstream, input: $0.output, slope: $0.slope) } ?? upstream
            let x = node.inputs[0]
            let layout = try ChannelLayout("batchNorm", x.shape)
            let channels = layout.channels
            // [Σdy (C), Σdy·x̂ (C)]
            var sums = try saved.gradientSums(g, x, layout: layout)
            for c in 0..<channels { sums[channels + c] *= Double(saved.inverseStd[c]) }
            var gradients: [Tensor?] = [nil]
            if saved.affine {
                gradients += [
                    try Tensor(
                        (0..<channels).map { Float(sums[channels + $0]) }, shape: [channels], backend: x.backend),
                    try Tensor((0..<channels).map { Float(sums[$0]) }, shape: [channels], backend: x.backend),
                ]
            }
            guard node.needs(0) else { return gradients }
            if saved.reproducible == nil { try saved.completeSums?(&sums) }
            let gamma = saved.affine ? node.inputs[1].scalars : nil
            let dx = x.sibling(x.shape)
            x.backend.batchNormInputGradient(
                g, x, mean: saved.mean, inverseStd: saved.inverseStd,
                scale: (0..<channels).map { (gamma?[$0] ?? 1) * saved.inverseStd[$0] },
                meanDy: (0..<channels).map { Float(sums[$0] / Double(saved.count)) },
                meanDyXhat: (0..<channels).map { Float(sums[channels + $0] / Double(saved.count)) },
                layout: layout, into: dx)
            gradients[0] = dx
            return gradients
        }
    }

    /// PyTorch's rule: dp = g · (p − t) / max(p·(1 − p), 1e-12) / n.
    static let ofBinaryCrossEntropy: BackwardRule = { g, node in
        guard !GradientMode.isEnabled else { throw TensorError.noSecondDerivative(operation: "binaryCrossEntropy") }
        let (p, t) = (node.inputs[0], node.inputs[1])
        let dp = p.sibling(p.shape)
        p.backend.binaryCrossEntropyGradient(p, t, g, into: dp)
        return [dp, nil]
    }

    /// d logits = g · (softmax(x) − onehot(y)) / N.
    static func ofSoftmaxCrossEntropy(_ labels: [Int]) -> BackwardRule {
        { g, node in
            guard !GradientMode.isEnabled else {
                throw TensorError.noSecondDerivative(operation: "softmaxCrossEntropy")
            }
            let logits = node.inputs[0]
            let dx = logits.sibling(logits.shape)
            logits.backend.softmaxCrossEntropyGradient(logits, labels: labels, g, into: dx)
            return [dx]
        }
    }

    /// dx = g · (σ(x) − t) / n.
    static let ofBinaryCrossEntropyWithLogits: BackwardRule = { g, node in
        guard !GradientMode.isEnabled else {
            throw TensorError.noSecondDerivative(operation: "binaryCrossEntropyWithLogits")
        }
        let (x, t) = (node.inputs[0], node.inputs[1])
        let dx = x.sibling(x.shape)
        x.backend.binaryCrossEntropyWithLogitsGradient(x, t, g, into: dx)
        return [dx, nil]
    }
}

extension Node {
    /// Whether the pass under way wants the gradient of input `index`.
    @inline(__always) func needs(_ index: Int) -> Bool { needsInputGradient[index] }

    /// The node's output, which is alive whenever the node is being differentiated.
    func result() throws -> Tensor {
        guard let output else { throw TensorError.notDifferentiable(detail: "\(operation)'s output was released") }
        return output
    }
}
