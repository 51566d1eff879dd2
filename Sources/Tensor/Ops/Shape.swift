extension Tensor {
    /// The same values under another shape (a view: no copy). One size may be −1, inferred from the rest.
    public func reshaped(to newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        if inferred.count == 1, known > 0, count % known == 0 { resolved[inferred[0]] = count / known }
        guard inferred.count <= 1, resolved.allSatisfy({ $0 >= 0 }), resolved.reduce(1, *) == count else {
            throw TensorError.shapeMismatch(
                operation: "reshape", detail: "\(describe(shape)) (\(count) values) cannot become \(describe(newShape))"
            )
        }
        let y = Tensor(shape: resolved, storage: storage, offset: offset)
        y.samples = samples  // still sample after sample in memory
        return Tensor.record(y, operation: "reshape", inputs: [self], rule: Derivatives.ofReshape(shape))
    }

    /// (N, ...) → (N, rest): PyTorch's `flatten(1)`.
    public func flattened() throws -> Tensor {
        try Check.rank("flatten", self, Set(1...8), "a batch (N, ...)")
        return try reshaped(to: [shape[0], -1])
    }

    /// Channels `start ..< start + length` of a (N, C, ...) tensor.
    public func narrowed(channels range: Range<Int>) throws -> Tensor {
        let layout = try ChannelLayout("narrow", shape)
        guard range.lowerBound >= 0, range.upperBound <= layout.channels, !range.isEmpty else {
            throw TensorError.invalidArgument(
                operation: "narrow", detail: "channels \(range) are outside 0..<\(layout.channels)")
        }
        var outShape = shape
        outShape[1] = range.count
        let y = sibling(outShape)
        backend.copyChannels(
            self, into: y, batch: layout.batch, spatial: layout.spatial, offset: range.lowerBound, toward: false)
        return Tensor.record(
            y, operation: "narrow", inputs: [self], rule: Derivatives.ofNarrow(range, channels: layout.channels))
    }

    /// Zero channels added before and after: (N, C, ...) → (N, before + C + after, ...). The adjoint of `narrowed`.
    public func paddedChannels(before: Int, after: Int) throws -> Tensor {
        let layout = try ChannelLayout("padChannels", shape)
        var outShape = shape
        outShape[1] = before + layout.channels + after
        let y = sibling(outShape)
        backend.fill(y, with: 0)
        backend.copyChannels(self, into: y, batch: layout.batch, spatial: layout.spatial, offset: before, toward: true)
        return Tensor.record(
            y, operation: "padChannels", inputs: [self],
            rule: Derivatives.ofPadChannels(before..<(before + layout.channels)))
    }
}

/// Joins (N, Cᵢ, ...) tensors along the channel axis (PyTorch's `torch.cat(dim=1)`): a conditional GAN's
/// noise and one-hot label, or an image and its label.
public func concatChannels(_ parts: [Tensor]) throws -> Tensor {
    guard let first = parts.first else {
        throw TensorError.invalidArgument(operation: "concat", detail: "nothing to join")
    }
    let layouts = try parts.map { try ChannelLayout("concat", $0.shape) }
    for (part, layout) in zip(parts, layouts)
    where layout.batch != layouts[0].batch || part.shape.dropFirst(2) != first.shape.dropFirst(2) {
        throw TensorError.shapeMismatch(
            operation: "concat",
            detail: "\(describe(part.shape)) does not match \(describe(first.shape)) outside axis 1")
    }
    for part in parts { try Check.sameDevice("concat", first, part) }
    var outShape = first.shape
    outShape[1] = layouts.map(\.channels).reduce(0, +)
    let y = first.sibling(outShape)
    y.samples = parts.lazy.compactMap(\.samples).first
    let spatial = layouts[0].spatial
    var ranges: [Range<Int>] = []
    var start = 0
    for (part, layout) in zip(parts, layouts) {
        first.backend.copyChannels(part, into: y, batch: layout.batch, spatial: spatial, offset: start, toward: true)
        ranges.append(start..<(start + layout.channels))
        start += layout.channels
    }
    return Tensor.record(y, operation: "concat", inputs: parts, rule: Derivatives.ofConcat(ranges))
}
