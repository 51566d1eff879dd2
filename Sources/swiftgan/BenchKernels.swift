import ArgumentParser
import Tensor

struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels", abstract: "Forward+backward GFLOP/s of the dcgan and sngan layers next to SGEMM's.")

    func run() throws {}
}
