import NN

/// A network that is a single `Sequential` registered under one name (`main`, `net`, `model`), with the
/// input reshaped per sample before it and the output after it: the shape of most seed networks.
public final class SequentialNetwork: GANNetwork {
    let body: Sequential
    /// Per-sample shape the input takes before the body (`[100, 1, 1]`: noise as a 1×1 image); nil keeps it.
    let inputShape: [Int]?
    /// Per-sample shape of the output (`[1, 28, 28]`, `[1]`); nil keeps the body's.
    let outputShape: [Int]?

    public init(_ name: String, _ body: Sequential, inputShape: [Int]? = nil, outputShape: [Int]? = nil) {
        self.body = body
        self.inputShape = inputShape
        self.outputShape = outputShape
        super.init()
        register(body, as: name)
    }

    public override func forward(_ x: Tensor, labels: [Int]?) throws -> Tensor {
        _ = try checkedLabels(labels, batch: x.shape[0])
        let input = try inputShape.map { try x.reshaped(to: [x.shape[0]] + $0) } ?? x
        let output = try body(input)
        return try outputShape.map { try output.reshaped(to: [output.shape[0]] + $0) } ?? output
    }
}
