import Foundation

/// Mean binary cross-entropy of probabilities p against targets t, as PyTorch's `BCELoss`: each log is
/// clamped at −100 so that p = 0 or 1 gives a finite loss. First-order only.
public func binaryCrossEntropy(_ p: Tensor, target t: Tensor) throws -> Tensor {
    try Check.sameShape("binaryCrossEntropy", p, t)
    var total = 0.0
    for i in 0..<p.count {
        let (pi, ti) = (p.pointer[i], t.pointer[i])
        guard pi >= 0, pi <= 1 else {
            throw TensorError.invalidArgument(
                operation: "binaryCrossEntropy", detail: "input \(pi) is not a probability (does the model end in a Sigmoid?)")
        }
        let logP = max(Foundation.log(pi), -100), logNotP = max(Foundation.log(1 - pi), -100)
        total -= Double(ti * logP + (1 - ti) * logNotP)
    }
    let y = Tensor(scalar: Float(total / Double(p.count)))
    return Tensor.record(y, operation: "binaryCrossEntropy", inputs: [p, t], rule: Derivatives.ofBinaryCrossEntropy)
}

/// Mean binary cross-entropy of logits x against targets t, as PyTorch's `BCEWithLogitsLoss`
/// (log-sum-exp form, stable for large |x|). First-order only.
public func binaryCrossEntropyWithLogits(_ x: Tensor, target t: Tensor) throws -> Tensor {
    try Check.sameShape("binaryCrossEntropyWithLogits", x, t)
    var total = 0.0
    for i in 0..<x.count {
        let (xi, ti) = (Double(x.pointer[i]), Double(t.pointer[i]))
        let m = max(-xi, 0)
        total += (1 - ti) * xi + m + Foundation.log(Foundation.exp(-m) + Foundation.exp(-xi - m))
    }
    let y = Tensor(scalar: Float(total / Double(x.count)))
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
            operation: "softmaxCrossEntropy", detail: "need \(n) labels in 0..<\(classes), got \(labels.count): \(labels.prefix(8))")
    }
    var total = 0.0
    for row in 0..<n {
        let x = logits.pointer + row * classes
        let top = (0..<classes).reduce(-Float.infinity) { max($0, x[$1]) }
        let sum = (0..<classes).reduce(0.0) { $0 + Foundation.exp(Double(x[$1] - top)) }
        total += Foundation.log(sum) + Double(top) - Double(x[labels[row]])
    }
    let y = Tensor(scalar: Float(total / Double(n)))
    return Tensor.record(y, operation: "softmaxCrossEntropy", inputs: [logits], rule: Derivatives.ofSoftmaxCrossEntropy(labels))
}

/// Softmax probabilities of logits `(N, C)`, row by row (not recorded: for evaluation).
public func softmax(_ logits: Tensor) -> Tensor {
    let (n, classes) = (logits.shape[0], logits.shape[1])
    let y = Tensor(uninitialized: logits.shape)
    for row in 0..<n {
        let (x, p) = (logits.pointer + row * classes, y.pointer + row * classes)
        let top = (0..<classes).reduce(-Float.infinity) { max($0, x[$1]) }
        var sum: Float = 0
        for c in 0..<classes { p[c] = Foundation.exp(x[c] - top); sum += p[c] }
        for c in 0..<classes { p[c] /= sum }
    }
    return y
}
