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
#if defined(__x86_64__) && defined(__linux__)
#define SWIFTGAN_WIDEST __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SWIFTGAN_WIDEST
#endif

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

// The DCGAN resampling (kernel 4, stride 2, padding 1, H = 2·OH, W = 2·OW) on planes up to 30 wide: a plane's
// pixels split by the parity of their row and column into four phases, and each tap's run is one phase read at a
// shift of zero or one row and column. A phase row fits one 16-lane register, so a run row is one masked load
// and store, where a gather moves value by value. AVX-512 only: the loader's check is swiftgan_has_avx512.

int swiftgan_has_avx512(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

#if defined(__x86_64__)
__attribute__((target("avx512f")))
void swiftgan_im2col_k4s2p1(const float *restrict plane, long out_height, long out_width, float *restrict runs,
                            long tap_stride) {
    const long width = 2 * out_width, rows = out_height + 1;
    // Phase (hp, wp), row i, lane j: x[2i + hp − 1][2j + wp − 1], 0 in the padding.
    float phases[4][16][16];
    const __mmask16 low = (__mmask16)(width >= 16 ? 0xFFFF : (1u << width) - 1);
    const __mmask16 high = (__mmask16)(width > 16 ? (1u << (width - 16)) - 1 : 0);
    const __mmask16 run = (__mmask16)((1u << out_width) - 1);
    // Lane j of wp = 1 takes column 2j; lane j ≥ 1 of wp = 0 takes column 2j − 1 (lane 0: the left padding).
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odds = _mm512_setr_epi32(0, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29);
    for (int hp = 0; hp < 2; hp++) {
        for (long i = 0; i < rows; i++) {
            const long h = 2 * i + hp - 1;
            __m512 left = _mm512_setzero_ps(), right = _mm512_setzero_ps();
            if (h >= 0 && h < 2 * out_height) {
                const __m512 a = _mm512_maskz_loadu_ps(low, plane + h * width);
                const __m512 b = _mm512_maskz_loadu_ps(high, plane + h * width + 16);
                right = _mm512_maskz_permutex2var_ps(run, a, evens, b);
                left = _mm512_maskz_permutex2var_ps((__mmask16)(run << 1), a, odds, b);
            }
            _mm512_storeu_ps(phases[hp * 2][i], left);
            _mm512_storeu_ps(phases[hp * 2 + 1][i], right);
        }
    }
    for (int ki = 0; ki < 4; ki++) {
        for (int kj = 0; kj < 4; kj++) {  // row oh of tap (ki, kj): phase (ki mod 2, kj mod 2) at row oh + ki/2
            float *target = runs + (ki * 4 + kj) * tap_stride;
            for (long oh = 0; oh < out_height; oh++) {
                const float *source = &phases[(ki & 1) * 2 + (kj & 1)][oh + (ki >> 1)][kj >> 1];
                _mm512_mask_storeu_ps(target + oh * out_width, run, _mm512_maskz_loadu_ps(run, source));
            }
        }
    }
}

__attribute__((target("avx512f")))
void swiftgan_col2im_k4s2p1(const float *restrict runs, long tap_stride, long out_height, long out_width,
                            float shift, float *restrict image) {
    const long width = 2 * out_width;
    const __mmask16 run = (__mmask16)((1u << out_width) - 1);
    // Lanes whose column ow = j + dj lies in the run, for dj = −1, 0, 1.
    const __mmask16 shifted[3] = {(__mmask16)(run & ~1u), run, (__mmask16)(run >> 1)};
    const __mmask16 low = (__mmask16)(width >= 16 ? 0xFFFF : (1u << width) - 1);
    const __mmask16 high = (__mmask16)(width > 16 ? (1u << (width - 16)) - 1 : 0);
    const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 bias = _mm512_set1_ps(shift);
    for (long h = 0; h < 2 * out_height; h++) {
        const int hp = (int)(h & 1);
        const long i = h >> 1;
        __m512 sums[2];  // lane j: pixel (h, 2j + wp)
        for (int wp = 0; wp < 2; wp++) {
            // The taps that land on this phase: ki ≡ h + 1 and kj ≡ w + 1 (mod 2), read at row oh = i + di and
            // column ow = j + dj. Ascending ki, then kj: tap order, from +0, as the gather sums.
            __m512 sum = _mm512_setzero_ps();
            for (int ki = (hp + 1) & 1; ki < 4; ki += 2) {
                const long oh = i + (hp + 1 - ki) / 2;
                if (oh < 0 || oh >= out_height) continue;
                for (int kj = (wp + 1) & 1; kj < 4; kj += 2) {
                    const int dj = (wp + 1 - kj) / 2;
                    const float *source = runs + (ki * 4 + kj) * tap_stride + oh * out_width + dj;
                    sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(shifted[dj + 1], source));
                }
            }
            sums[wp] = sum;
        }
        // + shift after the sum, as the gather adds a bias (+0 without one leaves a sum from +0 as it is).
        float *row = image + h * width;
        _mm512_mask_storeu_ps(row, low, _mm512_add_ps(_mm512_permutex2var_ps(sums[0], first, sums[1]), bias));
        _mm512_mask_storeu_ps(row + 16, high, _mm512_add_ps(_mm512_permutex2var_ps(sums[0], second, sums[1]), bias));
    }
}
#else
// Never called: swiftgan_has_avx512 is 0 here.
void swiftgan_im2col_k4s2p1(const float *plane, long out_height, long out_width, float *runs, long tap_stride) {
    __builtin_trap();
}
void swiftgan_col2im_k4s2p1(const float *runs, long tap_stride, long out_height, long out_width, float shift,
                            float *image) {
    __builtin_trap();
}
#endif
