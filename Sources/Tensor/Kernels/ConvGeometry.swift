/// The shape of one 2-D convolution, in the direction of `Conv2d`: `inputChannels` x `inputHeight` x
/// `inputWidth` in, `outputChannels` x `outputHeight` x `outputWidth` out, square kernel, equal stride and
/// padding on both axes. A `ConvTranspose2d` is described by the convolution whose input gradient it is.
public struct ConvGeometry: Equatable, CustomStringConvertible {
    public let inputChannels: Int
    public let outputChannels: Int
    public let inputHeight: Int
    public let inputWidth: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public init(
        inputChannels: Int, outputChannels: Int, inputHeight: Int, inputWidth: Int,
        kernel: Int, stride: Int, padding: Int
    ) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public var outputHeight: Int { (inputHeight + 2 * padding - kernel) / stride + 1 }
    public var outputWidth: Int { (inputWidth + 2 * padding - kernel) / stride + 1 }
    /// Rows of the im2col matrix: one per (input channel, kernel row, kernel column).
    public var patchSize: Int { inputChannels * kernel * kernel }
    public var inputPlane: Int { inputHeight * inputWidth }
    public var outputPlane: Int { outputHeight * outputWidth }
    public var weightShape: [Int] { [outputChannels, inputChannels, kernel, kernel] }

    public func inputShape(batch: Int) -> [Int] { [batch, inputChannels, inputHeight, inputWidth] }
    public func outputShape(batch: Int) -> [Int] { [batch, outputChannels, outputHeight, outputWidth] }

    /// A kernel that covers the whole unpadded input, giving one output position: then the image batch
    /// `(N, C, k, k)` already is the transposed im2col matrix `(N, C·k·k)`, and the convolution is a
    /// Linear layer, computed without im2col or a layout change.
    public var coversWholeInput: Bool {
        padding == 0 && kernel == inputHeight && kernel == inputWidth
    }

    /// Multiply-adds of one forward pass over `batch` samples (each of the three GEMMs costs the same).
    public func multiplyAdds(batch: Int) -> Int { batch * outputPlane * outputChannels * patchSize }

    public var description: String {
        "conv \(inputChannels)x\(inputHeight)x\(inputWidth) -> \(outputChannels)x\(outputHeight)x\(outputWidth) "
            + "(kernel \(kernel), stride \(stride), padding \(padding))"
    }

    /// Output positions `o` in 0..<count whose tap `o·stride − padding + offset` lands inside 0..<size.
    @inlinable func validRange(offset: Int, size: Int, count: Int) -> Range<Int> {
        // o·s − p + k ≥ 0  ⇔  o ≥ ceil((p − k) / s);   o·s − p + k ≤ size − 1  ⇔  o ≤ floor((size − 1 + p − k) / s)
        let lowNumerator = padding - offset
        let low = lowNumerator <= 0 ? 0 : (lowNumerator + stride - 1) / stride
        let highNumerator = size - 1 + padding - offset
        let high = highNumerator < 0 ? -1 : min(count - 1, highNumerator / stride)
        return low <= high ? low..<(high + 1) : 0..<0
    }
}
