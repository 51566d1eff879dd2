import Tensor
import XCTest

/// Finite-difference gradient checks. The loss is L = Σ f(inputs) · R with a fixed random R, evaluated in
/// Double from float32 outputs; central differences with step h are compared with the tape's gradients.
/// The tolerance admits float32 rounding and O(h²) truncation, and fails on a wrong sign or a missing term.
public enum GradientCheck {
    /// Checks d L / d input for every element of every input that requires grad.
    public static func check(
        _ inputs: [Tensor], step h: Float = 1e-2, absoluteTolerance: Double = 3e-3, relativeTolerance: Double = 2e-2,
        _ what: String, file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) throws -> Tensor
    ) throws {
        let output = try f(inputs)
        let weights = Tensor(uninitialized: output.shape)
        let random = RandomGenerator(seed: 42)
        random.fillUniform(weights, -1, 1)
        for input in inputs { input.grad = nil }
        try multiply(output, weights).sum().backward()

        // Recording stays on: a function that takes a gradient itself (second-order checks) needs the tape.
        func loss() throws -> Double {
            let y = try f(inputs)
            return (0..<y.count).reduce(0.0) { $0 + Double(y.pointer[$1]) * Double(weights.pointer[$1]) }
        }
        for (index, input) in inputs.enumerated() where input.requiresGrad {
            let analytic = input.grad?.scalars ?? [Float](repeating: 0, count: input.count)
            for i in 0..<input.count {
                let saved = input.pointer[i]
                input.pointer[i] = saved + h
                let plus = try loss()
                input.pointer[i] = saved - h
                let minus = try loss()
                input.pointer[i] = saved
                let numeric = (plus - minus) / (2 * Double(h))
                let difference = abs(Double(analytic[i]) - numeric)
                if difference > absoluteTolerance + relativeTolerance * abs(numeric) {
                    XCTFail(
                        "\(what): d/d input\(index)[\(i)] analytic \(analytic[i]) vs numeric \(numeric)", file: file,
                        line: line)
                    return
                }
            }
        }
    }
}

extension RandomGenerator {
    /// A leaf of the given shape with values uniform in `range`, asking for gradients: a gradient check's input.
    public func leaf(_ shape: [Int], _ range: ClosedRange<Float> = -1...1) -> Tensor {
        let t = Tensor(uninitialized: shape)
        fillUniform(t, range.lowerBound, range.upperBound)
        return t.requiringGrad()
    }
}
