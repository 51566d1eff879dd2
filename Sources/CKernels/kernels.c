#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// As Swift computes: a·b + c stays a multiply and an add.
#pragma clang fp contract(off)

// Each loop is compiled for AVX-512, for AVX2 and for the x86-64 baseline, and the loader picks the widest
// this CPU has (an ifunc, so Linux only). The updates are bound by their divisions and square roots, which
// the baseline does four at a time. Division and square root are exact in every width, and nothing is
// contracted, so every variant gives the same bits.
#include "widest.h"

SWIFTGAN_WIDEST
void swiftgan_adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long count,
                   float step_size, float beta1, float beta2, float epsilon, float weight_decay,
                   float correction2_root) {
    for (long i = 0; i < count; i++) {
        float gi = g[i] + weight_decay * p[i];  // + 0·p without weight decay: the same value
        float mi = m[i] + (1 - beta1) * (gi - m[i]);
        float vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float denominator = __builtin_elementwise_sqrt(vi) / correction2_root + epsilon;
        p[i] = p[i] - step_size * (mi / denominator);
    }
}

SWIFTGAN_WIDEST
void swiftgan_rmsprop(float *restrict p, const float *restrict g, float *restrict s, long count, float rate,
                      float alpha, float epsilon) {
    for (long i = 0; i < count; i++) {
        float si = alpha * s[i] + (1 - alpha) * g[i] * g[i];
        s[i] = si;
        p[i] = p[i] - rate * (g[i] / (__builtin_elementwise_sqrt(si) + epsilon));
    }
}

// x and y may be one buffer: Backend.unary allows an operation in place, so no `restrict` here.
SWIFTGAN_WIDEST
void swiftgan_square_root(const float *x, float *y, long count) {
    for (long i = 0; i < count; i++) y[i] = __builtin_elementwise_sqrt(x[i]);
}

// eʸ for y ≤ 0 without a libm call, so that the loops below vectorise: y = n·ln 2 + r with |r| ≤ ln 2 / 2,
// eʳ by its Taylor polynomial to r⁷ (error below 1e-8 relative), times 2ⁿ built from its exponent bits.
// Below −87 (e⁻⁸⁷ ≈ 1.6e-38, the smallest normal floats) it returns e⁻⁸⁷. The comparisons are written as
// Swift's min and max are, so that a NaN passes through.
static inline float exponential_of_negative(float y) {
    y = -87.0f >= y ? -87.0f : y;
    // Rounded to the nearest integer by adding and subtracting 1.5·2²³, which leaves no fraction bits.
    const float magic = 12582912.0f;
    float n = (y * 1.44269504f + magic) - magic;
    float r = (y - n * 0.693145751953125f) - n * 1.428606765330187e-06f;  // ln 2 in two parts
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    unsigned int bits = (unsigned int)((int)n + 127) << 23;
    float scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// x and y may be one buffer (an operation in place).
SWIFTGAN_WIDEST
void swiftgan_tanh(const float *x, float *y, long count) {
    for (long i = 0; i < count; i++) {
        float a = __builtin_fabsf(x[i]);
        a = 9.0f < a ? 9.0f : a;  // tanh 9 rounds to 1
        float e = exponential_of_negative(-2.0f * a);
        float far = (1.0f - e) / (1.0f + e);
        float s = a * a;
        float near = a * (1.0f + s * (-1.0f / 3.0f + s * (2.0f / 15.0f + s * (-17.0f / 315.0f))));
        y[i] = __builtin_copysignf(a < 0.0625f ? near : far, x[i]);
    }
}

SWIFTGAN_WIDEST
void swiftgan_logistic(const float *x, float *y, long count) {
    for (long i = 0; i < count; i++) {
        float e = exponential_of_negative(-__builtin_fabsf(x[i]));
        float s = 1.0f / (1.0f + e);
        y[i] = x[i] >= 0.0f ? s : e * s;
    }
}

// Row by row, so each total adds its column's values in row order whatever the vector width.
SWIFTGAN_WIDEST
void swiftgan_add_rows(const float *restrict x, double *restrict totals, long rows, long stride, long columns) {
    for (long n = 0; n < rows; n++) {
        const float *row = x + n * stride;
        for (long c = 0; c < columns; c++) totals[c] += (double)row[c];
    }
}

// Philox 4x32-10 on sixteen consecutive blocks at once, lane l at counter (first + l, c1, c2, c3): the rounds
// of Philox.block in Swift, written lane by lane so that the compiler makes them sixteen-wide (vpmuludq gives
// the 64-bit products). Integer arithmetic, so every width gives the same words.
static inline __attribute__((always_inline)) void philox_sixteen(uint32_t key0, uint32_t key1, uint32_t first,
                                                                 uint32_t c1, uint32_t c2, uint32_t c3,
                                                                 uint32_t words[4][16]) {
    uint32_t x0[16], x1[16], x2[16], x3[16];
    for (int l = 0; l < 16; l++) x0[l] = first + (uint32_t)l, x1[l] = c1, x2[l] = c2, x3[l] = c3;
    for (int round = 0; round < 10; round++) {
        for (int l = 0; l < 16; l++) {
            uint64_t p0 = (uint64_t)0xD2511F53u * x0[l], p1 = (uint64_t)0xCD9E8D57u * x2[l];
            uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1[l] ^ key0, y2 = (uint32_t)(p0 >> 32) ^ x3[l] ^ key1;
            x0[l] = y0, x1[l] = (uint32_t)p1, x2[l] = y2, x3[l] = (uint32_t)p0;
        }
        key0 += 0x9E3779B9u, key1 += 0xBB67AE85u;
    }
    for (int l = 0; l < 16; l++) words[0][l] = x0[l], words[1][l] = x1[l], words[2][l] = x2[l], words[3][l] = x3[l];
}

// ln u for u = k·2⁻²⁴, k in [1, 2²⁴]: k = 2ᵉ·m with m in [√½, √2), ln m = 2·atanh s with s = (m − 1)/(m + 1)
// (|s| ≤ 0.172, so the series to s⁹ leaves under 1e-8 relative), plus (e − 24)·ln 2 in two parts. No libm call,
// so the loop below vectorises.
static inline float log_of_units(uint32_t k) {
    float x = (float)k;  // exact: k ≤ 2²⁴
    uint32_t bits = __builtin_bit_cast(uint32_t, x);
    int e = (int)(bits >> 23) - 127;
    float m = __builtin_bit_cast(float, (bits & 0x007fffffu) | 0x3f800000u);  // [1, 2)
    int above = m > 1.41421356f;
    m = above ? m * 0.5f : m;
    e += above;
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float series = 1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9))));
    float n = (float)(e - 24);
    return n * 0.693145751953125f + (n * 1.428606765330187e-06f + 2.0f * s * series);
}

// cos and sin of 2π·j·2⁻²⁴ for j in [0, 2²⁴): j = q·2²² + r with |r| ≤ 2²¹, so x = 2π·r·2⁻²⁴ lies in [−π/4, π/4],
// where Taylor polynomials to x⁹ and x¹⁰ leave under 1e-8; the quarter turn q swaps and negates them.
static inline void turn(uint32_t j, float *cosine, float *sine) {
    uint32_t q = (j + (1u << 21)) >> 22;
    float x = (float)((int32_t)j - (int32_t)(q << 22)) * 3.74507028e-07f;  // 2π·2⁻²⁴
    float x2 = x * x;
    float s = x * (1.0f + x2 * (-1.0f / 6 + x2 * (1.0f / 120 + x2 * (-1.0f / 5040 + x2 * (1.0f / 362880)))));
    float c = 1.0f + x2 * (-0.5f + x2 * (1.0f / 24 + x2 * (-1.0f / 720 + x2 * (1.0f / 40320 + x2 * (-1.0f / 3628800)))));
    // Quarter turns 1 and 3 swap the two; cos is negative in turns 1 and 2, sin in 2 and 3 (bit 31 flipped).
    float swapped_cos = (q & 1) ? s : c, swapped_sin = (q & 1) ? c : s;
    *cosine = __builtin_bit_cast(float, __builtin_bit_cast(uint32_t, swapped_cos) ^ (((q + 1) & 2) << 30));
    *sine = __builtin_bit_cast(float, __builtin_bit_cast(uint32_t, swapped_sin) ^ ((q & 2) << 30));
}

// Box–Muller on sixteen blocks' 32 word pairs at once: r = √(−2 ln u₁) with u₁ = ((a >> 8) + 1)·2⁻²⁴ in (0, 1],
// θ = 2π·(b >> 8)·2⁻²⁴ in [0, 2π).
SWIFTGAN_WIDEST
void swiftgan_philox_normals(uint32_t key0, uint32_t key1, uint32_t c1, uint32_t c2, uint32_t c3, long count,
                             float *target) {
    uint32_t words[4][16];
    float values[4][16];  // values[i][l]: normal i of block l
    for (long first = 0; 4 * first < count; first += 16) {
        philox_sixteen(key0, key1, (uint32_t)first, c1, c2, c3, words);
        for (int pair = 0; pair < 2; pair++) {
            for (int l = 0; l < 16; l++) {
                float radius = __builtin_elementwise_sqrt(-2.0f * log_of_units((words[2 * pair][l] >> 8) + 1));
                float c, s;
                turn(words[2 * pair + 1][l] >> 8, &c, &s);
                values[2 * pair][l] = radius * c, values[2 * pair + 1][l] = radius * s;
            }
        }
        long end = count - 4 * first < 64 ? count - 4 * first : 64;
        for (long i = 0; i < end; i++) target[4 * first + i] = values[i % 4][i / 4];
    }
}

// Stride-2 convolutions (DCGAN's up- and down-sampling) on small planes. In the zero-padded plane X (x shifted by
// the padding), tap (ki, kj) reads X[2oh + ki][2ow + kj]: split X by the parity of its row and column into four
// grids G_ab[i][j] = X[2i + a][2j + b], and the tap's run is grid (ki mod 2, kj mod 2) read from row ki/2 and
// column kj/2 on. A grid row fits one 16-lane register, so a run row is one masked load and store where a gather
// moves value by value. The kernels take planes up to 32 wide (Kernels.runsByPhase says exactly which), and
// AVX-512 only: the loader's check is swiftgan_has_avx512.

int swiftgan_has_avx512(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

#if defined(__x86_64__)
// The lanes l with first ≤ l < end, end ≤ 16.
static inline __attribute__((always_inline)) __mmask16 lanes(long first, long end) {
    return (__mmask16)(((1u << end) - 1) & ~((1u << first) - 1));
}

static inline __attribute__((always_inline, target("avx512f"))) void
im2col_stride2(const float *restrict plane, long height, long width, const long kernel, long padding, long out_height,
               long out_width, float *restrict runs, long tap_stride) {
    const long reach = (kernel - 1) / 2;  // the farthest row or column a tap reads past its run's
    // grids[a][b][i][j] = X[2i + a][2j + b] = x[2i + a − p][2j + b − p], 0 in the padding.
    float grids[2][2][16][16];
    const __mmask16 low = lanes(0, width < 16 ? width : 16), high = lanes(0, width > 16 ? width - 16 : 0);
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    __m512i columns[2];  // lane j of grid column parity b reads x's column 2j + b − p
    __mmask16 inside[2];
    for (int b = 0; b < 2; b++) {
        columns[b] = _mm512_add_epi32(evens, _mm512_set1_epi32((int)(b - padding)));
        inside[b] = _mm512_cmpge_epi32_mask(columns[b], _mm512_setzero_si512()) &
                    _mm512_cmplt_epi32_mask(columns[b], _mm512_set1_epi32((int)width));
    }
    for (int a = 0; a < 2; a++) {
        for (long i = 0; i < out_height + reach; i++) {
            const long h = 2 * i + a - padding;
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            if (h >= 0 && h < height) {
                const __m512 first = _mm512_maskz_loadu_ps(low, plane + h * width);
                const __m512 second = _mm512_maskz_loadu_ps(high, plane + h * width + 16);
                a0 = _mm512_maskz_permutex2var_ps(inside[0], first, columns[0], second);
                a1 = _mm512_maskz_permutex2var_ps(inside[1], first, columns[1], second);
            }
            _mm512_storeu_ps(grids[a][0][i], a0);
            _mm512_storeu_ps(grids[a][1][i], a1);
        }
    }
    const __mmask16 run = lanes(0, out_width);
    for (long ki = 0; ki < kernel; ki++) {
        for (long kj = 0; kj < kernel; kj++) {
            float *target = runs + (ki * kernel + kj) * tap_stride;
            for (long oh = 0; oh < out_height; oh++) {
                const float *source = &grids[ki & 1][kj & 1][oh + (ki >> 1)][kj >> 1];
                _mm512_mask_storeu_ps(target + oh * out_width, run, _mm512_maskz_loadu_ps(run, source));
            }
        }
    }
}

static inline __attribute__((always_inline, target("avx512f"))) void
col2im_stride2(const float *restrict runs, long tap_stride, long height, long width, const long kernel, long padding,
               long out_height, long out_width, float shift, float *restrict image) {
    // Pixel (h, w) sits at X[u][v] with u = h + p, v = w + p, and takes the taps ki ≡ u, kj ≡ v (mod 2) at
    // oh = (u − ki)/2, ow = (v − kj)/2. Lane j of column parity c holds v = 2j + c, reading ow = j − kj/2.
    const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 bias = _mm512_set1_ps(shift);
    // The interleaved lanes hold v = 0..31; the row's pixels are v = p ..< p + W.
    const long end = padding + width;
    const __mmask16 low = lanes(padding < 16 ? padding : 16, end < 16 ? end : 16);
    const __mmask16 high = lanes(padding > 16 ? padding - 16 : 0, end > 16 ? end - 16 : 0);
    __mmask16 valid[16];  // lanes j whose column ow = j − m lies in the run, for m = kj/2
    for (long m = 0; m <= (kernel - 1) / 2; m++) valid[m] = lanes(m, out_width + m);
    for (long h = 0; h < height; h++) {
        const long u = h + padding;
        __m512 sums[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
        // Ascending ki, then kj: tap order, from +0, as the gather sums; a masked lane adds +0, which leaves
        // such a sum as it is.
        for (long ki = u & 1; ki < kernel; ki += 2) {
            const long oh = (u - ki) / 2;
            if (oh < 0 || oh >= out_height) continue;
            for (int c = 0; c < 2; c++) {
                for (long kj = c; kj < kernel; kj += 2) {
                    const float *source = runs + (ki * kernel + kj) * tap_stride + oh * out_width - (kj >> 1);
                    sums[c] = _mm512_add_ps(sums[c], _mm512_maskz_loadu_ps(valid[kj >> 1], source));
                }
            }
        }
        // + shift after the sum, as the gather adds a bias (+0 without one leaves the sum as it is).
        float *row = image + h * width - padding;  // lane v of the interleaved sums is pixel v − p
        _mm512_mask_storeu_ps(row, low, _mm512_add_ps(_mm512_permutex2var_ps(sums[0], first, sums[1]), bias));
        _mm512_mask_storeu_ps(row + 16, high, _mm512_add_ps(_mm512_permutex2var_ps(sums[0], second, sums[1]), bias));
    }
}

// DCGAN's kernels, 3 and 4, as constants, so that the loops over the taps unroll (col2im 1.7x on dcgan28's
// planes); any other kernel through the same code.
__attribute__((target("avx512f")))
void swiftgan_im2col_stride2(const float *restrict plane, long height, long width, long kernel, long padding,
                             long out_height, long out_width, float *restrict runs, long tap_stride) {
    switch (kernel) {
    case 3: im2col_stride2(plane, height, width, 3, padding, out_height, out_width, runs, tap_stride); break;
    case 4: im2col_stride2(plane, height, width, 4, padding, out_height, out_width, runs, tap_stride); break;
    default: im2col_stride2(plane, height, width, kernel, padding, out_height, out_width, runs, tap_stride);
    }
}

__attribute__((target("avx512f")))
void swiftgan_col2im_stride2(const float *restrict runs, long tap_stride, long height, long width, long kernel,
                             long padding, long out_height, long out_width, float shift, float *restrict image) {
    switch (kernel) {
    case 3: col2im_stride2(runs, tap_stride, height, width, 3, padding, out_height, out_width, shift, image); break;
    case 4: col2im_stride2(runs, tap_stride, height, width, 4, padding, out_height, out_width, shift, image); break;
    default: col2im_stride2(runs, tap_stride, height, width, kernel, padding, out_height, out_width, shift, image);
    }
}
#else
// Never called: swiftgan_has_avx512 is 0 here.
void swiftgan_im2col_stride2(const float *plane, long height, long width, long kernel, long padding,
                             long out_height, long out_width, float *runs, long tap_stride) {
    __builtin_trap();
}
void swiftgan_col2im_stride2(const float *runs, long tap_stride, long height, long width, long kernel,
                             long padding, long out_height, long out_width, float shift, float *image) {
    __builtin_trap();
}
#endif
