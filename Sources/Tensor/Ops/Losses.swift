import Foundation

/// Mean binary cross-entropy of probabilities p against targets t, as PyTorch's `BCELoss`: each log is
/// clamped at −100 so that p = 0 or 1 gives a finite loss. First-order only.
public func binaryCrossEntropy(_ p: Tensor, target t: Tensor) throws -> Tensor {
    try Check.sameShape("binaryCrossEntropy", p, t)
    if let batch = p.reproducibleBatch {
        return try meanOverChunks(
            batch, "binaryCrossEntropy", p, t, loss: { try $0.backend.binaryCrossEntropy($0, $1, into: $2) },
            gradient: { $0.backend.binaryCrossEntropyGradient($0, $1, $2, into: $3) })
    }
    let y = p.sibling([])
    try p.backend.binaryCrossEntropy(p, t, into: y)
    return Tensor.record(y, operation: "binaryCrossEntropy", inputs: [p, t], rule: Derivatives.ofBinaryCrossEntropy)
}

/// Mean binary cross-entropy of logits x against targets t, as PyTorch's `BCEWithLogitsLoss`
/// (log-sum-exp form, stable for large |x|). First-order only.
public func binaryCrossEntropyWithLogits(_ x: Tensor, target t: Tensor) throws -> Tensor {
    try Check.sameShape("binaryCrossEntropyWithLogits", x, t)
    if let batch = x.reproducibleBatch {
        return try meanOverChunks(
            batch, "binaryCrossEntropyWithLogits", x, t,
            loss: { $0.backend.binaryCrossEntropyWithLogits($0, $1, into: $2) },
            gradient: { $0.backend.binaryCrossEntropyWithLogitsGradient($0, $1, $2, into: $3) })
    }
    let y = x.sibling([])
    x.backend.binaryCrossEntropyWithLogits(x, t, into: y)
    return Tensor.record(
        y, operation: "binaryCrossEntropyWithLogits", inputs: [x, t], rule: Derivatives.ofBinaryCrossEntropyWithLogits)
}

/// Mean softmax cross-entropy of logits `(N, C)` against class indices, as PyTorch's `F.cross_entropy`
/// (log-sum-exp with the maximum subtracted). First-order only.
public func softmaxCrossEntropy(_ logits: Tensor, labels: [Int]) throws -> Tensor {
    try Check.rank("softmaxCrossEntropy", logits, [2], "logits (N, C)")
    let (n, classes) = (logits.shape[0], logits.shape[1])
    guard labels.count == n, labels.allSatisfy({ (0..<classes).contains($0) }) else {
        throw TensorError.invalidArgument(
            operation: "softmaxCrossEntropy",
            detail: "need \(n) labels in 0..<\(classes), got \(labels.count): \(labels.prefix(8))")
    }
    guard logits.reproducibleBatch == nil else {
        throw TensorError.invalidArgument(
            operation: "softmaxCrossEntropy", detail: "not available in reproducible mode")
    }
    let y = logits.sibling([])
    logits.backend.softmaxCrossEntropy(logits, labels: labels, into: y)
    return Tensor.record(
        y, operation: "softmaxCrossEntropy", inputs: [logits], rule: Derivatives.ofSoftmaxCrossEntropy(labels))
}

/// Softmax probabilities of logits `(N, C)`, row by row (not recorded: for evaluation).
public func softmax(_ logits: Tensor) -> Tensor {
    let y = logits.sibling(logits.shape)
    logits.backend.softmax(logits, into: y)
    return y
}

/// Reproducible mode's mean loss over samples x with targets t: the mean of the chunks' means, added along
/// the tree, so its value and its gradient (the chunk's share 1 / chunkCount of g, divided among the chunk's
/// elements by the backend's own rule) do not depend on the split. First-order only, like the fused losses.
private func meanOverChunks(
    _ batch: ReproducibleBatch, _ operation: String, _ x: Tensor, _ t: Tensor,
    loss: @escaping (Tensor, Tensor, Tensor) throws -> Void,
    gradient: @escaping (_ x: Tensor, _ t: Tensor, _ g: Tensor, _ dx: Tensor) -> Void
) throws -> Tensor {
    let (chunks, size) = (try batch.localChunks(x.shape[0], operation), batch.chunkSize)
    let share = 1 / Float(batch.chunkCount)
    let total = try batch.sum(chunks: chunks) { c in
        let partial = Tensor(uninitialized: [], backend: x.backend)
        try loss(x.chunk(c, of: size), t.chunk(c, of: size), partial)
        return partial
    }
    let y = unary(.affine(scale: share, shift: 0), total)
    return Tensor.record(y, operation: operation, inputs: [x, t]) { g, node in
        guard !GradientMode.isEnabled else { throw TensorError.noSecondDerivative(operation: operation) }
        let (x, t) = (node.inputs[0], node.inputs[1])
        let chunkShare = unary(.affine(scale: share, shift: 0), g)
        let dx = x.sibling(x.shape)
        for c in 0..<chunks { gradient(x.chunk(c, of: size), t.chunk(c, of: size), chunkShare, dx.chunk(c, of: size)) }
        return [dx, nil]
    }
}
