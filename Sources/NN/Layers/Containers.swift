/// Children applied in order, named "0", "1", ... as in PyTorch's `nn.Sequential`.
public final class Sequential: Module {
    public init(_ layers: [Module]) {
        super.init()
        for (index, layer) in layers.enumerated() { register(layer, as: String(index)) }
    }

    public convenience init(_ layers: Module...) { self.init(layers) }

    public subscript(index: Int) -> Module { children[index].module }
    public var layers: [Module] { children.map(\.module) }

    /// The layers in order. A BatchNorm followed by a ReLU or a LeakyReLU (slope ≥ 0) runs as one pass over
    /// the batch (`BatchNorm.forward(_:thenLeakyReLU:)`), with the values and gradients of the two layers.
    public override func forward(_ x: Tensor) throws -> Tensor {
        let layers = self.layers
        var (y, i) = (x, 0)
        while i < layers.count {
            if let norm = layers[i] as? BatchNorm, i + 1 < layers.count, let slope = Self.slope(of: layers[i + 1]) {
                y = try norm.forward(y, thenLeakyReLU: slope)
                i += 2
            } else {
                y = try layers[i].forward(y)
                i += 1
            }
        }
        return y
    }

    /// The slope of a ReLU (0) or of a LeakyReLU whose slope is ≥ 0; nil for any other layer.
    private static func slope(of layer: Module) -> Float? {
        if layer is ReLU { return 0 }
        if let leaky = layer as? LeakyReLU, leaky.negativeSlope >= 0 { return leaky.negativeSlope }
        return nil
    }
}

/// (N, ...) → (N, rest): PyTorch's `nn.Flatten()`.
public final class Flatten: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.flattened() }
}

/// (N, ...) → (N, shape...): a per-sample reshape, such as a generator's 4096 features to 256×4×4.
public final class Reshape: Module {
    public let shape: [Int]
    public init(_ shape: [Int]) {
        self.shape = shape
        super.init()
    }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.reshaped(to: [x.shape[0]] + shape) }
}

/// A lookup table: row i of `weight` `(count, dimension)` for index i. PyTorch initialises it N(0, 1).
public final class Embedding: Module {
    public let weight: Parameter

    public init(_ count: Int, _ dimension: Int, generator: RandomGenerator = DefaultGenerator.shared) {
        let w = Tensor(uninitialized: [count, dimension])
        generator.fillNormal(w)
        weight = Parameter(w)
        super.init()
        register(weight, as: "weight")
    }

    /// `(N, dimension)`: the rows for `indices`.
    public func forward(indices: [Int]) throws -> Tensor { try gatherRows(weight.value, indices: indices) }
}
