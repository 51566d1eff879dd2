/// The CUDA backend's kernels, by the name each has in `CUDAKernels.source`.
enum CUDAKernel: String, CaseIterable {
    case unary = "sg_unary", binary = "sg_binary", divideByScalar = "sg_divide_by_scalar"
    case sumRows = "sg_sum_rows", expandRows = "sg_expand_rows", dot = "sg_dot"
    case channels = "sg_channels", sumChannels = "sg_sum_channels", expandChannels = "sg_expand_channels"
    case copyChannels = "sg_copy_channels", gatherRows = "sg_gather_rows", scatterAddRows = "sg_scatter_add_rows"
    case im2col = "sg_im2col", col2im = "sg_col2im", swapOuterAxes = "sg_swap_outer_axes"
    case batchNormSums = "sg_batch_norm_sums", batchNormApply = "sg_batch_norm_apply"
    case batchNormGradientSums = "sg_batch_norm_gradient_sums", batchNormInputGradient = "sg_batch_norm_input_gradient"
    case binaryCrossEntropy = "sg_bce", binaryCrossEntropyGradient = "sg_bce_gradient"
    case binaryCrossEntropyWithLogits = "sg_bce_logits", binaryCrossEntropyWithLogitsGradient = "sg_bce_logits_gradient"
    case softmaxCrossEntropy = "sg_softmax_cross_entropy", softmaxCrossEntropyGradient =
        "sg_softmax_cross_entropy_gradient"
    case softmax = "sg_softmax"
    case adam = "sg_adam", rmsprop = "sg_rmsprop", sgd = "sg_sgd"
}

extension CUDAKernel {
    /// The kernel's parameters in order, as its CUDA C declares them: `p` a pointer, `l` a `long long`, `i` an
    /// `int`, `f` a `float`. Every launch is checked against it, and a test checks it against the compiled PTX.
    var parameters: String {
        switch self {
        case .unary: "iffppl"
        case .binary: "ifpppl"
        case .divideByScalar: "pppl"
        case .sumRows: "plp"
        case .expandRows: "plpl"
        case .dot: "pplp"
        case .channels: "ippplll"
        case .sumChannels: "plllp"
        case .expandChannels: "pplll"
        case .copyChannels: "ppllllli"
        case .gatherRows: "pppll"
        case .scatterAddRows: "pplpll"
        case .im2col, .col2im: "pp" + String(repeating: "i", count: 9)
        case .swapOuterAxes: "pplll"
        case .batchNormSums: "plllp"
        case .batchNormApply: "ppplll"
        case .batchNormGradientSums: "ppplllp"
        case .batchNormInputGradient: "pppplll"
        case .binaryCrossEntropy, .binaryCrossEntropyWithLogits: "pplp"
        case .binaryCrossEntropyGradient, .binaryCrossEntropyWithLogitsGradient: "ppppl"
        case .softmaxCrossEntropy: "ppllp"
        case .softmaxCrossEntropyGradient: "ppppll"
        case .softmax: "ppll"
        case .adam: "ppppl" + "ffffff"
        case .rmsprop: "pppl" + "fff"
        case .sgd: "pplf"
        }
    }
}

/// CUDA C for every `CUDAKernel`, compiled by NVRTC for the GPU present at first use. Each kernel does what
/// the CPU backend's loop of the same name does, in the same arithmetic where it can: sums accumulate in
/// double, col2im gathers each pixel's taps in the CPU's order, and scatter-add sums each output row in
/// sample order, so results do not depend on thread scheduling (no atomics).
enum CUDAKernels {
    /// Threads per block for the reductions (a power of two, the size of `block_sum`'s shared array).
    static let reductionThreads = 256

    static let source = #"""
        #define LOOP(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \
                                i += (long long)blockDim.x * gridDim.x)

        __device__ float stable_sigmoid(float x) {
            if (x >= 0.f) return 1.f / (1.f + expf(-x));
            float e = expf(x);
            return e / (1.f + e);
        }

        // Sum of one double per thread over the block (blockDim.x a power of two, at most 256), in a fixed order.
        __device__ double block_sum(double value) {
            __shared__ double partial[256];
            partial[threadIdx.x] = value;
            __syncthreads();
            for (int s = blockDim.x / 2; s > 0; s >>= 1) {
                if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
                __syncthreads();
            }
            double total = partial[0];
            __syncthreads();
            return total;
        }

        // op: 0 affine (a·x + b), 1 square, 2 power a, 3 sqrt, 4 leaky relu (slope a), 5 tanh, 6 sigmoid, 7 clamp [a, b]
        extern "C" __global__ void sg_unary(int op, float a, float b, const float *x, float *y, long long n) {
            LOOP(i, n) {
                float v = x[i], r;
                switch (op) {
                case 0: r = a * v + b; break;
                case 1: r = v * v; break;
                case 2: r = powf(v, a); break;
                case 3: r = sqrtf(v); break;
                case 4: r = v > 0.f ? v : a * v; break;
                case 5: r = tanhf(v); break;
                case 6: r = stable_sigmoid(v); break;
                default: r = fminf(fmaxf(v, a), b); break;
                }
                y[i] = r;
            }
        }

        // op: 0 add, 1 subtract, 2 multiply, 3 divide, 4 leaky relu gradient (p upstream, q input),
        //     5 tanh gradient (q output), 6 sigmoid gradient (q output)
        extern "C" __global__ void sg_binary(int op, float slope, const float *a, const float *b, float *y, long long n) {
            LOOP(i, n) {
                float p = a[i], q = b[i], r;
                switch (op) {
                case 0: r = p + q; break;
                case 1: r = p - q; break;
                case 2: r = p * q; break;
                case 3: r = p / q; break;
                case 4: r = q > 0.f ? p : slope * p; break;
                case 5: r = p * (1.f - q * q); break;
                default: r = p * q * (1.f - q); break;
                }
                y[i] = r;
            }
        }

        extern "C" __global__ void sg_divide_by_scalar(const float *x, const float *s, float *y, long long n) {
            float scale = 1.f / s[0];
            LOOP(i, n) y[i] = scale * x[i] + 0.f;
        }

        // One block per row of x viewed as (rows, width).
        extern "C" __global__ void sg_sum_rows(const float *x, long long width, float *y) {
            const float *row = x + blockIdx.x * width;
            double total = 0;
            for (long long i = threadIdx.x; i < width; i += blockDim.x) total += (double)row[i];
            total = block_sum(total);
            if (threadIdx.x == 0) y[blockIdx.x] = (float)total;
        }

        extern "C" __global__ void sg_expand_rows(const float *v, long long width, float *y, long long n) {
            LOOP(i, n) y[i] = v[i / width];
        }

        // One block: Σ a·b in double, written to out[0].
        extern "C" __global__ void sg_dot(const float *a, const float *b, long long n, double *out) {
            double total = 0;
            for (long long i = threadIdx.x; i < n; i += blockDim.x) total += (double)a[i] * (double)b[i];
            total = block_sum(total);
            if (threadIdx.x == 0) out[0] = total;
        }

        // op: 0 add v[c], 1 multiply by v[c]; x and y are (N, C, S).
        extern "C" __global__ void sg_channels(int op, const float *x, const float *v, float *y, long long channels,
                                               long long spatial, long long n) {
            LOOP(i, n) {
                float w = v[(i / spatial) % channels];
                y[i] = op == 0 ? x[i] + w : x[i] * w;
            }
        }

        // One block per channel.
        extern "C" __global__ void sg_sum_channels(const float *x, long long batch, long long channels, long long spatial,
                                                   float *y) {
            long long c = blockIdx.x, values = batch * spatial;
            double total = 0;
            for (long long j = threadIdx.x; j < values; j += blockDim.x)
                total += (double)x[((j / spatial) * channels + c) * spatial + j % spatial];
            total = block_sum(total);
            if (threadIdx.x == 0) y[c] = (float)total;
        }

        extern "C" __global__ void sg_expand_channels(const float *v, float *y, long long channels, long long spatial,
                                                      long long n) {
            LOOP(i, n) y[i] = v[(i / spatial) % channels];
        }

        // x (N, xc, S) into channels offset.. of y (N, yc, S) when toward, else channels offset.. of x into y.
        extern "C" __global__ void sg_copy_channels(const float *x, float *y, long long batch, long long spatial,
                                                    long long xc, long long yc, long long offset, int toward) {
            long long moved = toward ? xc : yc;
            LOOP(i, batch * moved * spatial) {
                long long s = i % spatial, c = (i / spatial) % moved, n = i / (spatial * moved);
                if (toward) y[(n * yc + offset + c) * spatial + s] = x[(n * xc + c) * spatial + s];
                else y[(n * yc + c) * spatial + s] = x[(n * xc + offset + c) * spatial + s];
            }
        }

        extern "C" __global__ void sg_gather_rows(const float *table, const int *indices, float *y, long long width,
                                                  long long n) {
            LOOP(i, n) y[i] = table[(long long)indices[i / width] * width + i % width];
        }

        // y (rows, width): each element sums the values rows whose index is its row, in sample order.
        extern "C" __global__ void sg_scatter_add_rows(const float *values, const int *indices, long long count,
                                                       float *y, long long width, long long n) {
            LOOP(i, n) {
                long long row = i / width, d = i % width;
                float total = 0.f;
                for (long long k = 0; k < count; k++)
                    if (indices[k] == row) total += values[k * width + d];
                y[i] = total;
            }
        }

        // columns (C·k·k, N·OH·OW) of images (N, C, H, W).
        extern "C" __global__ void sg_im2col(const float *x, float *columns, int batch, int channels, int height, int width,
                                             int kernel, int stride, int padding, int outHeight, int outWidth) {
            long long plane = (long long)outHeight * outWidth, rowLength = batch * plane;
            LOOP(i, (long long)channels * kernel * kernel * rowLength) {
                long long row = i / rowLength, column = i % rowLength;
                int kj = row % kernel, ki = (row / kernel) % kernel, c = row / (kernel * kernel);
                int n = column / plane, p = column % plane;
                int ih = (p / outWidth) * stride - padding + ki, iw = (p % outWidth) * stride - padding + kj;
                columns[i] = (ih >= 0 && ih < height && iw >= 0 && iw < width)
                    ? x[(((long long)n * channels + c) * height + ih) * width + iw] : 0.f;
            }
        }

        // images (N, C, H, W) = Σ of their taps in columns, gathered per pixel in (ki, kj) order.
        extern "C" __global__ void sg_col2im(const float *columns, float *x, int batch, int channels, int height, int width,
                                             int kernel, int stride, int padding, int outHeight, int outWidth) {
            long long plane = (long long)outHeight * outWidth, rowLength = batch * plane;
            LOOP(i, (long long)batch * channels * height * width) {
                int iw = i % width, ih = (i / width) % height;
                int c = (i / ((long long)width * height)) % channels, n = i / ((long long)width * height * channels);
                float total = 0.f;
                for (int ki = 0; ki < kernel; ki++) {
                    int rowNumerator = ih + padding - ki;
                    if (rowNumerator < 0 || rowNumerator % stride) continue;
                    int oh = rowNumerator / stride;
                    if (oh >= outHeight) continue;
                    for (int kj = 0; kj < kernel; kj++) {
                        int columnNumerator = iw + padding - kj;
                        if (columnNumerator < 0 || columnNumerator % stride) continue;
                        int ow = columnNumerator / stride;
                        if (ow >= outWidth) continue;
                        long long row = ((long long)c * kernel + ki) * kernel + kj;
                        total += columns[row * rowLength + n * plane + (long long)oh * outWidth + ow];
                    }
                }
                x[i] = total;
            }
        }

        // (A, B, S) -> (B, A, S)
        extern "C" __global__ void sg_swap_outer_axes(const float *x, float *y, long long a, long long b, long long s) {
            LOOP(o, a * b * s) {
                long long k = o % s, i = (o / s) % a, j = o / (s * a);
                y[o] = x[(i * b + j) * s + k];
            }
        }

        // One block per channel: out[c] = Σx, out[C + c] = Σx².
        extern "C" __global__ void sg_batch_norm_sums(const float *x, long long batch, long long channels, long long spatial,
                                                      double *out) {
            long long c = blockIdx.x, values = batch * spatial;
            double total = 0, squares = 0;
            for (long long j = threadIdx.x; j < values; j += blockDim.x) {
                double v = (double)x[((j / spatial) * channels + c) * spatial + j % spatial];
                total += v;
                squares += v * v;
            }
            total = block_sum(total);
            squares = block_sum(squares);
            if (threadIdx.x == 0) { out[c] = total; out[channels + c] = squares; }
        }

        // parameters: scale (C), shift (C)
        extern "C" __global__ void sg_batch_norm_apply(const float *x, const float *parameters, float *y, long long channels,
                                                       long long spatial, long long n) {
            LOOP(i, n) {
                long long c = (i / spatial) % channels;
                y[i] = x[i] * parameters[c] + parameters[channels + c];
            }
        }

        // One block per channel: out[c] = Σdy, out[C + c] = Σdy·(x − mean[c]).
        extern "C" __global__ void sg_batch_norm_gradient_sums(const float *dy, const float *x, const float *mean,
                                                               long long batch, long long channels, long long spatial,
                                                               double *out) {
            long long c = blockIdx.x, values = batch * spatial;
            float m = mean[c];
            double total = 0, weighted = 0;
            for (long long j = threadIdx.x; j < values; j += blockDim.x) {
                long long i = ((j / spatial) * channels + c) * spatial + j % spatial;
                total += (double)dy[i];
                weighted += (double)dy[i] * (double)(x[i] - m);
            }
            total = block_sum(total);
            weighted = block_sum(weighted);
            if (threadIdx.x == 0) { out[c] = total; out[channels + c] = weighted; }
        }

        // parameters: mean, inverseStd, scale, meanDy, meanDyXhat (C each)
        extern "C" __global__ void sg_batch_norm_input_gradient(const float *dy, const float *x, const float *parameters,
                                                                float *dx, long long channels, long long spatial,
                                                                long long n) {
            LOOP(i, n) {
                long long c = (i / spatial) % channels;
                float xhat = (x[i] - parameters[c]) * parameters[channels + c];
                dx[i] = parameters[2 * channels + c] * (dy[i] - parameters[3 * channels + c] - xhat * parameters[4 * channels + c]);
            }
        }

        // One block: y[0] = mean BCE, each log clamped at −100 (PyTorch's BCELoss).
        extern "C" __global__ void sg_bce(const float *p, const float *t, long long n, float *y) {
            double total = 0;
            for (long long i = threadIdx.x; i < n; i += blockDim.x) {
                float logP = fmaxf(logf(p[i]), -100.f), logNotP = fmaxf(logf(1.f - p[i]), -100.f);
                total -= (double)(t[i] * logP + (1.f - t[i]) * logNotP);
            }
            total = block_sum(total);
            if (threadIdx.x == 0) y[0] = (float)(total / (double)n);
        }

        extern "C" __global__ void sg_bce_gradient(const float *p, const float *t, const float *g, float *dp, long long n) {
            float factor = g[0] / (float)n;
            LOOP(i, n) dp[i] = factor * (p[i] - t[i]) / fmaxf((1.f - p[i]) * p[i], 1e-12f);
        }

        extern "C" __global__ void sg_bce_logits(const float *x, const float *t, long long n, float *y) {
            double total = 0;
            for (long long i = threadIdx.x; i < n; i += blockDim.x) {
                double xi = x[i], ti = t[i], m = fmax(-xi, 0.0);
                total += (1 - ti) * xi + m + log(exp(-m) + exp(-xi - m));
            }
            total = block_sum(total);
            if (threadIdx.x == 0) y[0] = (float)(total / (double)n);
        }

        extern "C" __global__ void sg_bce_logits_gradient(const float *x, const float *t, const float *g, float *dx, long long n) {
            float factor = g[0] / (float)n;
            LOOP(i, n) dx[i] = factor * (stable_sigmoid(x[i]) - t[i]);
        }

        // One block: mean over rows of log Σ exp(x − max) + max − x[label].
        extern "C" __global__ void sg_softmax_cross_entropy(const float *logits, const int *labels, long long rows,
                                                            long long classes, float *y) {
            double total = 0;
            for (long long r = threadIdx.x; r < rows; r += blockDim.x) {
                const float *x = logits + r * classes;
                float top = __int_as_float(0xff800000);
                for (long long c = 0; c < classes; c++) top = fmaxf(top, x[c]);
                double sum = 0;
                for (long long c = 0; c < classes; c++) sum += exp((double)(x[c] - top));
                total += log(sum) + (double)top - (double)x[labels[r]];
            }
            total = block_sum(total);
            if (threadIdx.x == 0) y[0] = (float)(total / (double)rows);
        }

        // One thread per row: softmax of the row.
        __device__ void softmax_row(const float *x, float *p, long long classes) {
            float top = __int_as_float(0xff800000), sum = 0.f;
            for (long long c = 0; c < classes; c++) top = fmaxf(top, x[c]);
            for (long long c = 0; c < classes; c++) { p[c] = expf(x[c] - top); sum += p[c]; }
            for (long long c = 0; c < classes; c++) p[c] /= sum;
        }

        extern "C" __global__ void sg_softmax(const float *logits, float *y, long long rows, long long classes) {
            LOOP(r, rows) softmax_row(logits + r * classes, y + r * classes, classes);
        }

        extern "C" __global__ void sg_softmax_cross_entropy_gradient(const float *logits, const int *labels, const float *g,
                                                                     float *dx, long long rows, long long classes) {
            float factor = g[0] / (float)rows;
            LOOP(r, rows) {
                float *p = dx + r * classes;
                softmax_row(logits + r * classes, p, classes);
                p[labels[r]] -= 1.f;
                for (long long c = 0; c < classes; c++) p[c] = factor * p[c] + 0.f;
            }
        }

        extern "C" __global__ void sg_adam(float *p, const float *g, float *m, float *v, long long n, float stepSize,
                                           float beta1, float beta2, float epsilon, float decay, float correction2Root) {
            LOOP(i, n) {
                float gi = decay == 0.f ? g[i] : g[i] + decay * p[i];
                float mi = m[i] + (1.f - beta1) * (gi - m[i]);
                float vi = beta2 * v[i] + (1.f - beta2) * gi * gi;
                m[i] = mi;
                v[i] = vi;
                p[i] -= stepSize * (mi / (sqrtf(vi) / correction2Root + epsilon));
            }
        }

        extern "C" __global__ void sg_rmsprop(float *p, const float *g, float *s, long long n, float rate, float alpha,
                                              float epsilon) {
            LOOP(i, n) {
                float si = alpha * s[i] + (1.f - alpha) * g[i] * g[i];
                s[i] = si;
                p[i] -= rate * (g[i] / (sqrtf(si) + epsilon));
            }
        }

        extern "C" __global__ void sg_sgd(float *p, const float *g, long long n, float rate) {
            LOOP(i, n) p[i] = p[i] - rate * g[i];
        }
        """#
}
