// Per-channel operations. A tensor of shape (N, C, ...) is viewed as (N, C, S) with S the product of the
// trailing sizes: a Linear output (N, C) has S = 1, an image batch (N, C, H, W) has S = H·W.

/// (N, C, S) view of a tensor of rank 2 or more.
@usableFromInline struct ChannelLayout {
    let batch: Int, channels: Int, spatial: Int

    init(_ operation: String, _ shape: [Int]) throws {
        guard shape.count >= 2 else {
            throw TensorError.shapeMismatch(operation: operation, detail: "expected (N, C, ...), got \(describe(shape))")
        }
        batch = shape[0]
        channels = shape[1]
        spatial = shape.dropFirst(2).reduce(1, *)
    }

    /// Calls `body(channel, run)` for every contiguous run of S values, in memory order.
    @inline(__always) func forEachRun(_ body: (Int, Int) -> Void) {
        for n in 0..<batch {
            for c in 0..<channels { body(c, (n * channels + c) * spatial) }
        }
    }
}

private func checkChannelVector(_ operation: String, _ v: Tensor, _ layout: ChannelLayout) throws {
    guard v.shape == [layout.channels] else {
        throw TensorError.shapeMismatch(
            operation: operation, detail: "expected a vector of \(layout.channels) channel values, got \(describe(v.shape))")
    }
}

/// x + v[c] on every element of channel c (a bias).
public func addChannels(_ x: Tensor, _ v: Tensor) throws -> Tensor {
    let layout = try ChannelLayout("addChannels", x.shape)
    try checkChannelVector("addChannels", v, layout)
    let y = Tensor(uninitialized: x.shape)
    let (xp, yp, vp, s) = (x.pointer, y.pointer, v.pointer, layout.spatial)
    layout.forEachRun { c, start in
        let b = vp[c]
        for i in start..<(start + s) { yp[i] = xp[i] + b }
    }
    return Tensor.record(y, operation: "addChannels", inputs: [x, v], rule: Derivatives.ofAddChannels)
}

/// x · v[c] on every element of channel c (a per-channel scale).
public func multiplyChannels(_ x: Tensor, _ v: Tensor) throws -> Tensor {
    let layout = try ChannelLayout("multiplyChannels", x.shape)
    try checkChannelVector("multiplyChannels", v, layout)
    let y = Tensor(uninitialized: x.shape)
    let (xp, yp, vp, s) = (x.pointer, y.pointer, v.pointer, layout.spatial)
    layout.forEachRun { c, start in
        let a = vp[c]
        for i in start..<(start + s) { yp[i] = xp[i] * a }
    }
    return Tensor.record(y, operation: "multiplyChannels", inputs: [x, v], rule: Derivatives.ofMultiplyChannels)
}

/// Σ over batch and positions, per channel: (N, C, ...) → (C).
public func sumChannels(_ x: Tensor) throws -> Tensor {
    let layout = try ChannelLayout("sumChannels", x.shape)
    var totals = [Double](repeating: 0, count: layout.channels)
    let (xp, s) = (x.pointer, layout.spatial)
    layout.forEachRun { c, start in totals[c] += Kernels.sum(xp + start, count: s) }
    let y = Tensor(uninitialized: [layout.channels])
    for c in 0..<layout.channels { y.pointer[c] = Float(totals[c]) }
    return Tensor.record(y, operation: "sumChannels", inputs: [x], rule: Derivatives.ofSumChannels(x.shape))
}

/// v[c] copied to every element of channel c of a tensor shaped `shape`: (C) → (N, C, ...).
public func expandChannels(_ v: Tensor, to shape: [Int]) throws -> Tensor {
    let layout = try ChannelLayout("expandChannels", shape)
    try checkChannelVector("expandChannels", v, layout)
    let y = Tensor(uninitialized: shape)
    let (yp, vp, s) = (y.pointer, v.pointer, layout.spatial)
    layout.forEachRun { c, start in (yp + start).update(repeating: vp[c], count: s) }
    return Tensor.record(y, operation: "expandChannels", inputs: [v], rule: Derivatives.ofExpandChannels)
}
