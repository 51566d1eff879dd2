/// A backward rule: given the gradient of the loss with respect to a node's output, the gradients with
/// respect to each of its inputs (nil where an input needs none). Rules are written with the same
/// recorded operations as the forward pass, so with `createGraph` their results can be differentiated again.
public typealias BackwardRule = (_ gradient: Tensor, _ node: Node) throws -> [Tensor?]

/// One entry of the tape: which operation made a tensor, from which inputs, and how to differentiate it.
public final class Node {
    public let operation: String
    public let inputs: [Tensor]
    /// Position on the tape; backward visits nodes from the newest to the oldest.
    let sequence: Int
    let rule: BackwardRule
    /// The tensor this node produced. Weak, because that tensor owns the node; while a backward pass can
    /// reach this node, its output is alive (it is a later node's input or the root).
    public private(set) weak var output: Tensor?
    /// For the backward pass under way: which inputs a gradient is wanted for. Rules skip the others
    /// (PyTorch's `needs_input_grad`), so `grad(of:withRespectTo:)` does not compute unused weight gradients.
    public internal(set) var needsInputGradient: [Bool] = []
    /// For the backward pass under way, when backward replaces gradients: per input, the leaf's own `grad`
    /// (its slice of the gradient arena) offered to the rule, or nil. A rule that takes it saves backward its
    /// copy into the arena.
    var gradientOffers: [GradientOffer?] = []

    enum GradientOffer {
        /// This node is the first to deliver a gradient to the leaf: it may write it there.
        case write(Tensor)
        /// An earlier node wrote the leaf's first gradient there (a discriminator's weight on fake after
        /// real): this one may add its own.
        case add(Tensor)
    }

    /// Where input `index`'s gradient may be written, if anywhere. A rule that uses it must fill all of it.
    public func gradientDestination(_ index: Int) -> Tensor? {
        guard index < gradientOffers.count, case let .write(tensor) = gradientOffers[index] else { return nil }
        return tensor
    }

    /// Where input `index`'s gradient may be added, if anywhere. A rule that uses it adds its whole gradient
    /// there and returns that tensor as the gradient; one that does not has its gradient added there after.
    public func gradientAccumulator(_ index: Int) -> Tensor? {
        guard index < gradientOffers.count, case let .add(tensor) = gradientOffers[index] else { return nil }
        return tensor
    }

    init(operation: String, inputs: [Tensor], sequence: Int, rule: @escaping BackwardRule, output: Tensor) {
        self.operation = operation
        self.inputs = inputs
        self.sequence = sequence
        self.rule = rule
        self.output = output
    }
}

/// Whether operations are recorded on the tape. Off inside `withoutGradients` and during a backward pass
/// without `createGraph`. SwiftGAN trains on one thread per process (one MPI rank), so this is a plain flag.
public enum GradientMode {
    nonisolated(unsafe) public private(set) static var isEnabled = true
    nonisolated(unsafe) static var nextSequence = 0

    /// Runs `body` without recording (PyTorch's `torch.no_grad()`).
    public static func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
        try with(enabled: false, body)
    }

    static func with<T>(enabled: Bool, _ body: () throws -> T) rethrows -> T {
        let saved = isEnabled
        isEnabled = enabled
        defer { isEnabled = saved }
        return try body()
    }
}

extension Tensor {
    /// Records `result` as the output of `operation` on `inputs` when any input needs a gradient.
    /// Custom operations call this too: it is the one way onto the tape.
    @discardableResult
    public static func record(
        _ result: Tensor, operation: String, inputs: [Tensor], rule: @escaping BackwardRule
    ) -> Tensor {
        guard GradientMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return result }
        GradientMode.nextSequence += 1
        result.gradientFunction = Node(
            operation: operation, inputs: inputs, sequence: GradientMode.nextSequence, rule: rule, output: result)
        result.requiresGrad = true
        return result
    }

    /// Accumulates d(self)/d(leaf) into every leaf's `grad` (PyTorch's `loss.backward()`). `self` must be a
    /// scalar unless `gradient` (the seed, shaped like `self`) is given. `onLeafReady` is called for each leaf
    /// as soon as its gradient is complete, while the rest of the pass goes on: data-parallel training starts
    /// averaging a bucket of gradients then (PyTorch DDP's hooks).
    ///
    /// With `replacingGradients`, a leaf's total overwrites its `grad` instead of adding to it, as after
    /// PyTorch's `zero_grad(set_to_none=True)`: one pass over each gradient rather than a zeroing pass before
    /// backward and an adding pass in it. The caller then owns the `grad` of every leaf backward did not reach.
    public func backward(
        gradient seed: Tensor? = nil, replacingGradients: Bool = false, onLeafReady: ((Tensor) throws -> Void)? = nil
    ) throws {
        let seed = try seed ?? Tensor.seed(for: self, operation: "backward")
        func deposit(_ leaf: Tensor, _ gradient: Tensor) throws {
            if let existing = leaf.grad {
                if replacingGradients {
                    // A rule may have written it in place already (`Node.gradientDestination`).
                    if !gradient.isSameView(as: existing) { existing.backend.copy(gradient, into: existing) }
                } else {
                    existing.backend.binary(.add, existing, gradient, into: existing)
                }
            } else {
                leaf.grad = gradient.copy()
            }
            try onLeafReady?(leaf)
        }
        // Reproducible mode computes sums over samples in its own buffers: no destinations there.
        let destinations = replacingGradients && ReproducibleBatch.current == nil
        let remaining = try Autodiff.propagate(
            roots: [(self, seed)], createGraph: false, leafFinished: deposit,
            gradientDestination: destinations ? { $0.grad } : nil)
        for (leaf, gradient) in remaining { try deposit(leaf, gradient) }
    }

    fileprivate static func seed(for output: Tensor, operation: String) throws -> Tensor {
        guard output.count == 1 else {
            throw TensorError.invalidArgument(
                operation: operation,
                detail: "a gradient seed is needed for a non-scalar output of shape \(describe(output.shape))")
        }
        return Tensor(repeating: 1, shape: output.shape, backend: output.backend)
    }
}

/// d(outputs · seeds)/d(inputs) for each input, without touching any `grad` (PyTorch's `torch.autograd.grad`).
/// With `createGraph`, the returned gradients are themselves on the tape, so a loss built from them
/// (WGAN-GP's penalty) can be differentiated with respect to the parameters.
public func grad(
    of outputs: [Tensor], withRespectTo inputs: [Tensor], seeds: [Tensor]? = nil, createGraph: Bool = false
) throws -> [Tensor] {
    let seeds = try seeds ?? outputs.map { try Tensor.seed(for: $0, operation: "grad") }
    guard seeds.count == outputs.count else {
        throw TensorError.invalidArgument(
            operation: "grad", detail: "\(seeds.count) seeds for \(outputs.count) outputs")
    }
    for input in inputs where !input.requiresGrad {
        throw TensorError.notDifferentiable(
            detail: "grad: an input of shape \(describe(input.shape)) does not require grad")
    }
    let found = try Autodiff.propagate(
        roots: Array(zip(outputs, seeds)), createGraph: createGraph, targets: inputs)
    var byIdentity: [ObjectIdentifier: Tensor] = [:]
    for (tensor, gradient) in found { byIdentity[ObjectIdentifier(tensor)] = gradient }
    return inputs.map { byIdentity[ObjectIdentifier($0)] ?? Tensor(zeros: $0.shape, backend: $0.backend) }
}

/// The single-output form of `grad(of:withRespectTo:seeds:createGraph:)`.
public func grad(
    of output: Tensor, withRespectTo input: Tensor, seed: Tensor? = nil, createGraph: Bool = false
)
    throws -> Tensor
{
    try grad(of: [output], withRespectTo: [input], seeds: seed.map { [$0] }, createGraph: createGraph)[0]
}

enum Autodiff {
    /// Walks the tape from `roots` back to the leaves and returns each reached tensor's total gradient:
    /// leaves when `targets` is nil, otherwise exactly the targets reached (which may be intermediate results,
    /// several on one chain). Nodes that lead to no wanted gradient are skipped.
    /// With `leafFinished`, each leaf's total is handed over as soon as the last node that uses it has been
    /// processed, and is not returned. With `gradientDestination` too, the first node to deliver a gradient to
    /// a leaf is offered `gradientDestination(leaf)` to write it into, and the later nodes to add theirs into
    /// (`Node.gradientOffers`); a later gradient its rule did not add there is added in place (a weight used
    /// on real and on fake).
    static func propagate(
        roots: [(Tensor, Tensor)], createGraph: Bool, targets: [Tensor]? = nil,
        leafFinished: ((Tensor, Tensor) throws -> Void)? = nil, gradientDestination: ((Tensor) -> Tensor?)? = nil
    ) throws -> [(Tensor, Tensor)] {
        for (output, seed) in roots where output.shape != seed.shape {
            throw TensorError.shapeMismatch(
                operation: "backward", detail: "seed \(describe(seed.shape)) for output \(describe(output.shape))")
        }
        let targetIDs = targets.map { Set($0.map(ObjectIdentifier.init)) }
        var nodeGradients: [ObjectIdentifier: Tensor] = [:]
        var leafGradients: [ObjectIdentifier: (Tensor, Tensor)] = [:]

        func accumulate(_ gradient: Tensor, into tensor: Tensor) throws {
            guard tensor.requiresGrad else { return }
            // A gradient holds samples exactly when its tensor does (a loss's seed spread over a batch does).
            gradient.samples = tensor.samples
            if targetIDs?.contains(ObjectIdentifier(tensor)) ?? (tensor.gradientFunction == nil) {
                let key = ObjectIdentifier(tensor)
                if let (_, total) = leafGradients[key], let destination = gradientDestination?(tensor),
                    total.isSameView(as: destination)
                {
                    // The first contribution was written into the destination: the next one is added there,
                    // unless its rule already did (`Node.gradientAccumulator`).
                    if !gradient.isSameView(as: total) { total.backend.binary(.add, total, gradient, into: total) }
                } else {
                    leafGradients[key] = (tensor, try leafGradients[key].map { try add($0.1, gradient) } ?? gradient)
                }
            }
            // An intermediate target still passes its gradient on: another target may lie before it.
            guard let node = tensor.gradientFunction else { return }
            let key = ObjectIdentifier(node)
            nodeGradients[key] = try nodeGradients[key].map { try add($0, gradient) } ?? gradient
        }

        try GradientMode.with(enabled: createGraph) {
            for (output, seed) in roots { try accumulate(seed, into: output) }
            let order = tapeOrder(from: roots.map(\.0), wanting: targetIDs)
            // How many nodes still have to deliver a gradient to each leaf.
            var pendingUses: [ObjectIdentifier: Int] = [:]
            if leafFinished != nil {
                for node in order {
                    for (index, input) in node.inputs.enumerated()
                    where node.needs(index) && input.gradientFunction == nil {
                        pendingUses[ObjectIdentifier(input), default: 0] += 1
                    }
                }
            }
            for node in order {
                guard let gradient = nodeGradients.removeValue(forKey: ObjectIdentifier(node)) else { continue }
                if let gradientDestination, leafFinished != nil,
                    node.inputs.contains(where: { $0.gradientFunction == nil && $0.requiresGrad })
                {
                    // A leaf that has no gradient yet is offered its destination to write into; one whose first
                    // gradient is there already, to add into. Only to its first input: matmul(w, w) must not put
                    // both its gradients into one buffer.
                    node.gradientOffers = node.inputs.enumerated().map { index, input in
                        guard node.needs(index), input.gradientFunction == nil,
                            !node.inputs[..<index].contains(where: { $0 === input }),
                            let destination = gradientDestination(input)
                        else { return nil }
                        guard let (_, total) = leafGradients[ObjectIdentifier(input)] else {
                            return .write(destination)
                        }
                        return total.isSameView(as: destination) ? .add(destination) : nil
                    }
                }
                defer { node.gradientOffers = [] }
                let inputGradients = try node.rule(gradient, node)
                for (index, inputGradient) in inputGradients.enumerated() where node.needsInputGradient[index] {
                    guard let inputGradient else { continue }
                    let input = node.inputs[index]
                    guard inputGradient.shape == input.shape else {
                        throw TensorError.shapeMismatch(
                            operation: "backward of \(node.operation)",
                            detail: "gradient \(describe(inputGradient.shape)) for input \(describe(input.shape))")
                    }
                    try accumulate(inputGradient, into: input)
                }
                guard let leafFinished else { continue }
                for (index, input) in node.inputs.enumerated() where node.needs(index) && input.gradientFunction == nil
                {
                    let key = ObjectIdentifier(input)
                    pendingUses[key]! -= 1
                    if pendingUses[key] == 0, let (leaf, total) = leafGradients.removeValue(forKey: key) {
                        try leafFinished(leaf, total)
                    }
                }
            }
        }
        return Array(leafGradients.values)
    }

    /// The nodes reachable from `roots` that lead to a wanted gradient, newest first: the reverse of the
    /// order in which they were recorded. Sets each node's `needsInputGradient` for this pass.
    static func tapeOrder(from roots: [Tensor], wanting targets: Set<ObjectIdentifier>?) -> [Node] {
        var seen: Set<ObjectIdentifier> = []
        var nodes: [Node] = []
        var stack = roots
        while let tensor = stack.popLast() {
            guard let node = tensor.gradientFunction, seen.insert(ObjectIdentifier(node)).inserted else { continue }
            nodes.append(node)
            stack.append(contentsOf: node.inputs.filter(\.requiresGrad))
        }
        nodes.sort { $0.sequence < $1.sequence }
        // Oldest first, so an input's node is decided before the nodes that consume it.
        var leadsToTarget: Set<ObjectIdentifier> = []
        for node in nodes {
            node.needsInputGradient = node.inputs.map { input in
                guard input.requiresGrad else { return false }
                guard let targets else { return true }
                if targets.contains(ObjectIdentifier(input)) { return true }
                return input.gradientFunction.map { leadsToTarget.contains(ObjectIdentifier($0)) } ?? false
            }
            if node.needsInputGradient.contains(true) { leadsToTarget.insert(ObjectIdentifier(node)) }
        }
        return nodes.filter { leadsToTarget.contains(ObjectIdentifier($0)) }.reversed()
    }
}
