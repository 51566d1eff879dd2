extension Tensor {
    /// Σ of all elements, as a scalar (shape `[]`). In reproducible mode, a tensor of samples is summed over
    /// every rank's samples.
    public func sum() throws -> Tensor {
        let y: Tensor
        if let batch = reproducibleBatch, let samples {
            let chunks = try batch.localChunks(samples, "sum")
            let length = count / chunks
            y = try batch.sum(chunks: chunks) { c in
                let partial = sibling([])
                backend.sumRows(
                    Tensor(shape: [length], storage: storage, offset: offset + c * length), rows: 1, into: partial)
                return partial
            }
        } else {
            y = sibling([])
            backend.sumRows(self, rows: 1, into: y)
        }
        return Tensor.record(y, operation: "sum", inputs: [self], rule: Derivatives.ofSum(shape))
    }

    /// Mean of all elements, as a scalar; in reproducible mode, of a tensor of samples, over every rank's.
    public func mean() throws -> Tensor {
        try sum().scaled(by: 1 / Float(count * (reproducibleBatch?.ranks ?? 1)))
    }

    /// A one-element tensor copied to every element of `shape`.
    public func expanded(to shape: [Int]) throws -> Tensor {
        try Check.scalar("expanded(to:)", self)
        let y = sibling(shape)
        backend.expandRows(self, rows: 1, into: y)
        return Tensor.record(y, operation: "expand", inputs: [self], rule: Derivatives.ofExpand(self.shape))
    }

    /// Σ over everything but the first axis: (N, ...) → (N). The per-sample squared norm of a gradient
    /// is `multiply(g, g).sumPerSample()`.
    public func sumPerSample() throws -> Tensor {
        try Check.rank("sumPerSample", self, Set(1...8), "a batch (N, ...)")
        let y = sibling([shape[0]])
        backend.sumRows(self, rows: shape[0], into: y)
        return Tensor.record(y, operation: "sumPerSample", inputs: [self], rule: Derivatives.ofSumPerSample(shape))
    }

    /// v[n] copied to every element of sample n of a tensor shaped `shape`: (N) → (N, ...).
    public func expandedPerSample(to shape: [Int]) throws -> Tensor {
        guard self.shape.count == 1, let batch = shape.first, batch == self.shape[0] else {
            throw TensorError.shapeMismatch(
                operation: "expandedPerSample", detail: "\(describe(self.shape)) cannot expand to \(describe(shape))")
        }
        let y = sibling(shape)
        backend.expandRows(self, rows: batch, into: y)
        return Tensor.record(y, operation: "expandPerSample", inputs: [self], rule: Derivatives.ofExpandPerSample)
    }
}
