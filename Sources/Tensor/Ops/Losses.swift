import Foundation

/// Mean binary cross-entropy of probabilities p against targets t, as PyTorch's `BCELoss`: each log is
/// clamped at −100 so that p = 0 or 1 gives a finite loss. First-order only.
public func binaryCrossEntropy(_ p: Tensor, target t: Tensor) throws -> Tensor {
    try Check.sameShape("binaryCrossEntropy", p, t)
    let y = p.sibling([])
    try p.backend.binaryCrossEntropy(p, t, into: y)
    return Tensor.record(y, operation: "binaryCrossEntropy", inputs: [p, t], rule: Derivatives.ofBinaryCrossEntropy)
}

/// Mean binary cross-entropy of logits x against targets t, as PyTorch's `BCEWithLogitsLoss`
/// (log-sum-exp form, stable for large |x|). First-order only.
public func binaryCrossEntropyWithLogits(_ x: Tensor, target t: Tensor) throws -> Tensor {
    try Check.sameShape("binaryCrossEntropyWithLogits", x, t)
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
