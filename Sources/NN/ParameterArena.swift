/// A model's trainable values in one contiguous buffer, and their gradients in a second with the same
/// layout (as llm.c does). Each parameter becomes a view: an optimiser step is one loop over the arena, a
/// gradient bucket is a slice of it, and an allreduce needs no packing.
public final class ParameterArena {
    public let parameters: [(name: String, parameter: Parameter)]
    /// Offset of each parameter within the arena, in floats, in `parameters` order.
    public let offsets: [Int]
    public let count: Int
    /// All trainable values: `(count)`.
    public let values: Tensor
    /// All gradients, same layout: `(count)`.
    public let gradients: Tensor

    /// Moves `module`'s parameters into a new arena on `backend`'s device; the module keeps working, now on the
    /// arena's memory.
    public init(_ module: Module, backend: Backend = CPUBackend.shared) {
        parameters = module.namedParameters()
        var offsets: [Int] = []
        var total = 0
        for (_, parameter) in parameters {
            offsets.append(total)
            // Each parameter starts on a 16-float (64-byte) boundary, so vector loops over it stay aligned.
            total += (parameter.value.count + 15) & ~15
        }
        self.offsets = offsets
        count = total
        values = Tensor(zeros: [total], backend: backend)
        gradients = Tensor(zeros: [total], backend: backend)
        for ((_, parameter), offset) in zip(parameters, offsets) {
            let view = Tensor(shape: parameter.shape, storage: values.storage, offset: offset)
            // The views have the parameters' shapes and counts: assigning cannot fail.
            try! view.assign(parameter.value)
            view.requiringGrad()
            view.grad = Tensor(shape: parameter.shape, storage: gradients.storage, offset: offset)
            parameter.value = view
        }
    }

    /// Sets every gradient to zero (PyTorch's `zero_grad(set_to_none=False)`).
    public func zeroGradients() { gradients.backend.fill(gradients, with: 0) }

    /// Whether the parameters take part in backward passes. Off while another model trains through this one
    /// (a GAN's generator step through its discriminator), so their gradients are not computed at all.
    public func setRequiresGrad(_ flag: Bool) {
        for (_, parameter) in parameters { parameter.value.requiringGrad(flag) }
    }

    /// The L2 norm of all gradients, in Double.
    public var gradientNorm: Double { gradients.backend.dot(gradients, gradients).squareRoot() }
}
