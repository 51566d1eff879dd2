import Foundation
import NN

/// The sample-quality measures of the GAN literature, on feature vectors (rows of `(N, F)` matrices, in Double).
public enum SampleQuality {
    /// Fréchet distance between Gaussians fitted to two feature sets (FID on a classifier's features):
    /// ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½, covariances with N − 1 as numpy.cov.
    public static func frechetDistance(_ a: [[Double]], _ b: [[Double]]) -> Double {
        let (meanA, covarianceA) = moments(a), (meanB, covarianceB) = moments(b)
        let meanTerm = zip(meanA, meanB).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let rootA = SymmetricMatrix(covarianceA).squareRoot().values
        // Σ₁^½ Σ₂ Σ₁^½ is symmetric in exact arithmetic; averaging it with its transpose removes the rounding.
        let product = SymmetricMatrix(symmetrized: multiply(multiply(rootA, covarianceB), rootA))
        let crossTrace = product.eigenvalues().reduce(0) { $0 + max($1, 0).squareRoot() }
        let traces = (0..<meanA.count).reduce(0) { $0 + covarianceA[$1][$1] + covarianceB[$1][$1] }
        return max(meanTerm + traces - 2 * crossTrace, 0)
    }

    /// Kernel Inception Distance: the unbiased squared MMD with the kernel (x·y / F + 1)³, averaged over
    /// `subsets` random subsets of `subsetSize` from each set (all of each set when `subsets` is 1 and the
    /// sizes allow).
    public static func kernelDistance(
        _ a: [[Double]], _ b: [[Double]], subsets: Int = 100, subsetSize: Int = 1000, seed: UInt64 = 0
    ) -> Double {
        let size = min(subsetSize, a.count, b.count)
        guard size >= 2 else { return .nan }
        let random = SampleRandom(seed: seed)
        var total = 0.0
        for subset in 0..<subsets {
            let x =
                subsets == 1 && size == a.count
                ? a : random.permutation(count: a.count, epoch: 2 * subset).prefix(size).map { a[$0] }
            let y =
                subsets == 1 && size == b.count
                ? b : random.permutation(count: b.count, epoch: 2 * subset + 1).prefix(size).map { b[$0] }
            total += unbiasedMMD(x, y)
        }
        return total / Double(subsets)
    }

    /// Unbiased MMD² with the kernel (x·y / F + 1)³. The Gram matrices are GEMMs (float32 dot products,
    /// summed in Double).
    static func unbiasedMMD(_ x: [[Double]], _ y: [[Double]]) -> Double {
        let dimension = x[0].count
        func matrix(_ rows: [[Double]]) -> Tensor {
            try! Tensor(rows.flatMap { $0.map(Float.init) }, shape: [rows.count, dimension])
        }
        let (a, b) = (matrix(x), matrix(y))
        func kernelSum(_ p: Tensor, _ q: Tensor, skipDiagonal: Bool) -> Double {
            let gram = GradientMode.withoutGradients { try! matmul(p, q, transposeB: true) }  // (m, n)
            let (m, n) = (p.shape[0], q.shape[0])
            var sum = 0.0
            for i in 0..<m {
                for j in 0..<n where !(skipDiagonal && i == j) {
                    let base = Double(gram.pointer[i * n + j]) / Double(dimension) + 1
                    sum += base * base * base
                }
            }
            return sum
        }
        let (m, n) = (Double(x.count), Double(y.count))
        return kernelSum(a, a, skipDiagonal: true) / (m * (m - 1)) + kernelSum(b, b, skipDiagonal: true) / (n * (n - 1))
            - 2 * kernelSum(a, b, skipDiagonal: false) / (m * n)
    }

    /// The Inception Score of class probabilities (rows): exp(E[KL(p(y|x) ‖ p(y))]), 10 for sharp predictions
    /// spread evenly over 10 classes, 1 for one class or uniform predictions. Also the share of rows whose top
    /// class is each class.
    public static func inceptionScore(_ probabilities: [[Double]]) -> (score: Double, classShares: [Double]) {
        let n = Double(probabilities.count), classes = probabilities.first?.count ?? 0
        var marginal = [Double](repeating: 0, count: classes), shares = marginal
        for p in probabilities {
            for c in 0..<classes { marginal[c] += p[c] / n }
            shares[p.indices.max { p[$0] < p[$1] }!] += 1 / n
        }
        var kl = 0.0
        for p in probabilities {
            for c in 0..<classes where p[c] > 0 { kl += p[c] * (log(p[c]) - log(max(marginal[c], 1e-12))) / n }
        }
        return (exp(kl), shares)
    }

    /// Mean vector and covariance matrix (divided by N − 1).
    static func moments(_ rows: [[Double]]) -> ([Double], [[Double]]) {
        let n = Double(rows.count), f = rows[0].count
        var mean = [Double](repeating: 0, count: f)
        for row in rows { for j in 0..<f { mean[j] += row[j] / n } }
        var covariance = [[Double]](repeating: [Double](repeating: 0, count: f), count: f)
        for row in rows {
            let centred = (0..<f).map { row[$0] - mean[$0] }
            for i in 0..<f { for j in i..<f { covariance[i][j] += centred[i] * centred[j] } }
        }
        for i in 0..<f {
            for j in i..<f {
                covariance[i][j] /= max(n - 1, 1)
                covariance[j][i] = covariance[i][j]
            }
        }
        return (mean, covariance)
    }
}

/// The product of two square matrices.
func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
    let n = a.count
    var result = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n { for k in 0..<n where a[i][k] != 0 { for j in 0..<n { result[i][j] += a[i][k] * b[k][j] } } }
    return result
}

/// A symmetric matrix, with the eigendecomposition (cyclic Jacobi rotations) that FID's matrix square root needs.
struct SymmetricMatrix {
    var values: [[Double]]
    init(_ values: [[Double]]) { self.values = values }

    init(symmetrized m: [[Double]]) {
        values = m.indices.map { i in m.indices.map { j in (m[i][j] + m[j][i]) / 2 } }
    }

    /// Eigenvalues and eigenvectors (columns of the second matrix).
    func eigen() -> ([Double], [[Double]]) {
        let n = values.count
        var a = values
        var v = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { off += a[i][j] * a[i][j] } }
            if off < 1e-22 * max(1, (0..<n).reduce(0) { $0 + a[$1][$1] * a[$1][$1] }) { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) where abs(a[p][q]) > 1e-300 {
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let (akp, akq) = (a[k][p], a[k][q])
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let (apk, aqk) = (a[p][k], a[q][k])
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let (vkp, vkq) = (v[k][p], v[k][q])
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0][$0] }, v)
    }

    func eigenvalues() -> [Double] { eigen().0 }

    /// The positive semi-definite square root V·diag(√max(λ, 0))·Vᵀ.
    func squareRoot() -> SymmetricMatrix {
        let (lambda, v) = eigen()
        let n = values.count
        let roots = lambda.map { max($0, 0).squareRoot() }
        var result = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { result[i][j] += v[i][k] * roots[k] * v[j][k] } } }
        return SymmetricMatrix(result)
    }
}
