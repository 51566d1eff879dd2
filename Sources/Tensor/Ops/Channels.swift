// Per-channel operations. A tensor of shape (N, C, ...) is viewed as (N, C, S) with S the product of the
// trailing sizes: a Linear output (N, C) has S = 1, an image batch (N, C, H, W) has S = H·W.

private func checkChannelVector(_ operation: String, _ v: Tensor, _ layout: ChannelLayout) throws {
    guard v.shape == [layout.channels] else {
        throw TensorError.shapeMismatch(
            operation: operation,
            detail: "expected a vector of \(layout.channels) channel values, got \(describe(v.shape))")
    }
}

/// x + v[c] on every element of channel c (a bias).
public func addChannels(_ x: Tensor, _ v: Tensor) throws -> Tensor {
    let layout = try ChannelLayout("addChannels", x.shape)
    try checkChannelVector("addChannels", v, layout)
    try Check.sameDevice("addChannels", x, v)
    let y = x.sibling(x.shape)
    x.backend.channels(.add, x, v, layout: layout, into: y)
    return Tensor.record(y, operation: "addChannels", inputs: [x, v], rule: Derivatives.ofAddChannels)
}

/// x · v[c] on every element of channel c (a per-channel scale).
public func multiplyChannels(_ x: Tensor, _ v: Tensor) throws -> Tensor {
    let layout = try ChannelLayout("multiplyChannels", x.shape)
    try checkChannelVector("multiplyChannels", v, layout)
    try Check.sameDevice("multiplyChannels", x, v)
    let y = x.sibling(x.shape)
    x.backend.channels(.multiply, x, v, layout: layout, into: y)
    return Tensor.record(y, operation: "multiplyChannels", inputs: [x, v], rule: Derivatives.ofMultiplyChannels)
}

/// Σ over batch and positions, per channel: (N, C, ...) → (C).
public func sumChannels(_ x: Tensor) throws -> Tensor {
    let layout = try ChannelLayout("sumChannels", x.shape)
    let y: Tensor
    if let batch = x.reproducibleBatch {
        let size = batch.chunkSize
        let chunk = ChannelLayout(batch: size, channels: layout.channels, spatial: layout.spatial)
        y = try batch.sum(chunks: batch.localChunks(layout.batch, "sumChannels")) { c in
            let partial = Tensor(uninitialized: [layout.channels], backend: x.backend)
            x.backend.sumChannels(x.chunk(c, of: size), layout: chunk, into: partial)
            return partial
        }
    } else {
        y = Tensor(uninitialized: [layout.channels], backend: x.backend)
        x.backend.sumChannels(x, layout: layout, into: y)
    }
    return Tensor.record(y, operation: "sumChannels", inputs: [x], rule: Derivatives.ofSumChannels(x.shape))
}

/// v[c] copied to every element of channel c of a tensor shaped `shape`: (C) → (N, C, ...).
public func expandChannels(_ v: Tensor, to shape: [Int]) throws -> Tensor {
    let layout = try ChannelLayout("expandChannels", shape)
    try checkChannelVector("expandChannels", v, layout)
    let y = v.sibling(shape)
    v.backend.expandChannels(v, layout: layout, into: y)
    return Tensor.record(y, operation: "expandChannels", inputs: [v], rule: Derivatives.ofExpandChannels)
}
