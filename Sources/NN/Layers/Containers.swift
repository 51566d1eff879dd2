/// Children applied in order, named "0", "1", ... as in PyTorch's `nn.Sequential`.
public final class Sequential: Module {
    public init(_ layers: [Module]) {
        super.init()
        for (index, layer) in layers.enumerated() { register(layer, as: String(index)) }
    }

    public convenience init(_ layers: Module...) { self.init(layers) }

    public subscript(index: Int) -> Module { children[index].module }
    public var layers: [Module] { children.map(\.module) }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try children.reduce(x) { try $1.module.forward($0) }
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
