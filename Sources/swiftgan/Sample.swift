import ArgumentParser
import Distributed
import Foundation
import GAN

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate images from a checkpoint, as a PNG grid or a .npy array.")

    @Option(help: "A checkpoint (runs/NAME/checkpoints/latest.safetensors).") var checkpoint: String
    @Option(help: "How many samples (per digit with --per-digit).") var count = 100
    @Option(help: "For conditional models: every sample of this class (default: sample i has label i mod 10).")
    var label: Int?
    @Option(help: "Noise as a float32 .npy of shape [N, z], for samples reproducible across tools.") var noise: String?
    @Option(help: "Random seed of the noise.") var seed = 0
    @Option(help: "Output: .png (a grid) or .npy (float32 [N, C, H, W] in [-1, 1]; labels in NAME.labels.npy).")
    var out: String
    @Flag(help: "Conditional models: one row per digit, as seed 000's generate_digit_image.") var perDigit = false
    @Option(help: "Where the generator runs: cpu, cuda or cuda:N.") var device = "cpu"

    /// Samples generated per forward pass: memory stays flat in --count.
    static let chunk = 256

    func validate() throws {
        guard (1...1_000_000).contains(count) else {
            throw ValidationError("--count must be in 1...1000000, not \(count)")
        }
    }

    func run() throws {
        Launcher.useThreads(0, LocalCommunicator())
        let (generator, config) = try Checkpoint.generator(
            from: URL(fileURLWithPath: checkpoint), device: Device(parsing: device))
        let classes = config.model.classes
        var z: Tensor
        if let noise {
            let (values, shape) = try NumpyFile.readFloats(URL(fileURLWithPath: noise))
            guard shape.count == 2, shape[1] == config.model.noiseSize else {
                throw CommandError("--noise: expected shape [N, \(config.model.noiseSize)], got \(shape)")
            }
            z = try Tensor(values, shape: shape)
        } else {
            let total = perDigit ? count * max(classes, 1) : count
            z = SampleRandom(seed: UInt64(seed)).noise(
                .fixedNoise, step: SampleRandom.Key.sampling, samples: 0..<total, size: config.model.noiseSize)
        }
        let n = z.shape[0]
        guard n > 0 else { throw CommandError("--noise: the file holds no samples") }
        var labels: [Int]? = nil
        if classes > 0 {
            if let label {
                guard (0..<classes).contains(label) else { throw ValidationError("--label must be in 0..<\(classes)") }
                labels = Array(repeating: label, count: n)
            } else {
                labels = perDigit ? (0..<n).map { $0 / count } : (0..<n).map { $0 % classes }
            }
        } else if label != nil || perDigit {
            throw CommandError(
                "this checkpoint's model (\(config.model.architecture.rawValue), classes 0) is unconditional")
        }
        // In chunks, so memory stays flat in the count (evaluation mode: each sample's output is its own).
        let (noise, width) = (z.scalars, z.shape[1])
        var values: [Float] = [], sampleShape: [Int] = []
        for start in stride(from: 0, to: n, by: Self.chunk) {
            let rows = start..<min(start + Self.chunk, n)
            let part = try Tensor(
                Array(noise[(rows.lowerBound * width)..<(rows.upperBound * width)]), shape: [rows.count, width])
            let output = try GradientMode.withoutGradients {
                try generator.forward(part.to(generator.device), labels: labels.map { Array($0[rows]) })
            }
            values += output.scalars
            sampleShape = Array(output.shape.dropFirst())
        }
        let images = try Tensor(values, shape: [n] + sampleShape)
            .to(.cpu)
        let url = URL(fileURLWithPath: out)
        switch url.pathExtension.lowercased() {
        case "npy":
            try NumpyFile.write(.float32(images.scalars), shape: images.shape, to: url)
            if let labels {
                let labelsURL = url.deletingPathExtension().appendingPathExtension("labels.npy")
                try NumpyFile.write(.int64(labels.map(Int64.init)), shape: [n], to: labelsURL)
            }
        case "png":
            let columns = perDigit ? count : Int(Double(n).squareRoot().rounded(.up))
            try ImageGrid(images, columns: columns).png.write(to: url, options: .atomic)
        default:
            throw ValidationError("--out must end in .png or .npy")
        }
        print("wrote \(n) samples to \(url.path)")
    }
}
