import NN

/// A generator or a discriminator: a module whose forward pass may take class labels.
/// Generators map noise `(N, z)` to images `(N, 1, H, W)` in [−1, 1]; discriminators map images to scores `(N, 1)`.
open class GANNetwork: Module {
    /// Label classes the network is conditioned on; 0 when it is unconditional.
    public let classes: Int

    public init(classes: Int = 0) {
        self.classes = classes
        super.init()
    }

    /// Subclasses implement the computation here; `labels` is nil exactly when `classes` is 0.
    open func forward(_ input: Tensor, labels: [Int]?) throws -> Tensor {
        throw ModuleError.noForward(String(describing: type(of: self)))
    }

    public override func forward(_ input: Tensor) throws -> Tensor { try forward(input, labels: nil) }

    /// Checks that labels come exactly when the network is conditional, one per sample.
    func checkedLabels(_ labels: [Int]?, batch: Int) throws -> [Int]? {
        switch (classes, labels) {
        case (0, nil): return nil
        case (0, _?):
            throw ModuleError.invalidConfiguration("\(type(of: self)) is unconditional but was given labels")
        case (_, nil):
            throw ModuleError.invalidConfiguration(
                "\(type(of: self)) is conditional on \(classes) classes and needs labels")
        case let (_, labels?):
            guard labels.count == batch else {
                throw ModuleError.invalidConfiguration("\(labels.count) labels for a batch of \(batch)")
            }
            if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
                throw ModuleError.invalidConfiguration("label \(bad) is outside 0..<\(classes)")
            }
            return labels
        }
    }
}

/// One-hot rows for `labels`: `(N, classes)`, a constant on `backend`'s device.
public func oneHot(_ labels: [Int], classes: Int, backend: Backend = CPUBackend.shared) throws -> Tensor {
    var rows = [Float](repeating: 0, count: labels.count * classes)
    for (n, label) in labels.enumerated() { rows[n * classes + label] = 1 }
    return try Tensor(rows, shape: [labels.count, classes], backend: backend)
}
