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
