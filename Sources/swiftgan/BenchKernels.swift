import ArgumentParser
import Foundation
import Tensor

/// Forward+backward GFLOP/s of every convolution layer of the `dcgan` and `sngan` configs, next to what
/// `cblas_sgemm` reaches on this machine: a benchmark that prints figures, not a test.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Forward+backward GFLOP/s of the dcgan and sngan conv layers next to SGEMM's, on one core.")

    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Timed repetitions per layer (the best is reported).") var repeats = 20
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Flag(help: "Print one JSON object per line instead of a table.") var json = false
    @Option(help: "Only layers whose name contains this text (e.g. \"dcgan D conv.0\").") var only: String?

    struct Layer {
        let config: String
        let name: String
        let transposed: Bool
        let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, inputSize: Int
    }

    /// The conv and transposed-conv layers of docs/models.md's `dcgan` and `sngan` configs.
    static let layers: [Layer] = [
        Layer(
            config: "dcgan", name: "G model.0", transposed: true, inChannels: 256, outChannels: 128, kernel: 3,
            stride: 2, padding: 0, inputSize: 4),
        Layer(
            config: "dcgan", name: "G model.3", transposed: true, inChannels: 128, outChannels: 64, kernel: 3,
            stride: 2, padding: 1, inputSize: 9),
        Layer(
            config: "dcgan", name: "G model.6", transposed: true, inChannels: 64, outChannels: 1, kernel: 4, stride: 2,
            padding: 2, inputSize: 17),
        Layer(
            config: "dcgan", name: "D conv.0", transposed: false, inChannels: 1, outChannels: 16, kernel: 3, stride: 2,
            padding: 1, inputSize: 32),
        Layer(
            config: "dcgan", name: "D conv.2", transposed: false, inChannels: 16, outChannels: 32, kernel: 3, stride: 2,
            padding: 1, inputSize: 16),
        Layer(
            config: "dcgan", name: "D conv.5", transposed: false, inChannels: 32, outChannels: 64, kernel: 3, stride: 2,
            padding: 1, inputSize: 8),
        Layer(
            config: "dcgan", name: "D conv.8", transposed: false, inChannels: 64, outChannels: 128, kernel: 4,
            stride: 1, padding: 0, inputSize: 4),
        Layer(
            config: "sngan", name: "G deconv.0", transposed: true, inChannels: 128, outChannels: 64, kernel: 4,
            stride: 2, padding: 1, inputSize: 7),
        Layer(
            config: "sngan", name: "G deconv.3", transposed: true, inChannels: 64, outChannels: 1, kernel: 4, stride: 2,
            padding: 1, inputSize: 14),
        Layer(
            config: "sngan", name: "D conv.0", transposed: false, inChannels: 1, outChannels: 64, kernel: 4, stride: 2,
            padding: 1, inputSize: 28),
        Layer(
            config: "sngan", name: "D conv.2", transposed: false, inChannels: 64, outChannels: 128, kernel: 4,
            stride: 2, padding: 1, inputSize: 14),
    ]

    func run() throws {
        ComputeThreads.count = threads
        let random = RandomGenerator(seed: 1)
        let peak = sgemmGigaflops()
        if !json {
            print("SGEMM 1024x1024x1024, \(threads) thread(s): \(format(peak)) GFLOP/s")
            print("layer                      shape                          fwd+bwd ms   GFLOP/s   % of SGEMM")
        }
        for layer in Self.layers where only.map({ "\(layer.config) \(layer.name)".contains($0) }) ?? true {
            let x = Tensor(uninitialized: [batch, layer.inChannels, layer.inputSize, layer.inputSize])
            let w = Tensor(
                uninitialized: layer.transposed
                    ? [layer.inChannels, layer.outChannels, layer.kernel, layer.kernel]
                    : [layer.outChannels, layer.inChannels, layer.kernel, layer.kernel])
            random.fillUniform(x, -1, 1)
            random.fillUniform(w, -0.1, 0.1)
            x.requiringGrad()
            w.requiringGrad()
            let apply = {
                layer.transposed
                    ? try convTranspose2d(x, w, stride: layer.stride, padding: layer.padding)
                    : try conv2d(x, w, stride: layer.stride, padding: layer.padding)
            }
            let y = try apply()
            let seed = Tensor(repeating: 1, shape: y.shape)
            // Forward, input gradient and weight gradient: three GEMMs of one size each.
            let convolutionInput = layer.transposed ? y : x
            let geometry = ConvGeometry(
                inputChannels: convolutionInput.shape[1],
                outputChannels: layer.transposed ? layer.inChannels : layer.outChannels,
                inputHeight: convolutionInput.shape[2], inputWidth: convolutionInput.shape[3],
                kernel: layer.kernel, stride: layer.stride, padding: layer.padding)
            let flops = Double(6 * geometry.multiplyAdds(batch: batch))
            let seconds = try best(of: repeats) {
                let out = try apply()
                _ = try grad(of: [out], withRespectTo: [x, w], seeds: [seed])
            }
            let rate = flops / seconds / 1e9
            let shape = "\(describeShape(x.shape)) -> \(describeShape(y.shape))"
            if json {
                print(
                    #"{"config":"\#(layer.config)","layer":"\#(layer.name)","input":\#(x.shape),"output":\#(y.shape),"ms":\#(format(seconds * 1e3)),"gflops":\#(format(rate)),"sgemm_gflops":\#(format(peak))}"#
                )
            } else {
                let label = "\(layer.config) \(layer.name)".padding(toLength: 26, withPad: " ", startingAt: 0)
                print(
                    "\(label) \(shape.padding(toLength: 30, withPad: " ", startingAt: 0)) \(pad(format(seconds * 1e3), 10)) \(pad(format(rate), 9)) \(pad(format(100 * rate / peak), 10))%"
                )
            }
        }
    }

    func sgemmGigaflops() -> Double {
        let n = 1024
        let a = Tensor(repeating: 0.5, shape: [n, n]), b = Tensor(repeating: 0.25, shape: [n, n]),
            c = Tensor(zeros: [n, n])
        let seconds =
            (try? best(of: 5) {
                Kernels.gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, a.pointer, b.pointer, c.pointer)
            }) ?? .infinity
        return 2 * Double(n * n * n) / seconds / 1e9
    }
}

/// The shortest wall time of `count` runs of `body`, after one warm-up run.
func best(of count: Int, _ body: () throws -> Void) throws -> Double {
    try body()
    var fastest = Double.infinity
    for _ in 0..<max(count, 1) {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return fastest
}

func format(_ value: Double) -> String { String(format: value >= 100 ? "%.0f" : "%.2f", value) }
func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
func describeShape(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "x") }
