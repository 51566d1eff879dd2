#define _GNU_SOURCE  // sincosf
#include "CKernels.h"

#include <math.h>

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

// Here because Swift's Glibc module does not export sincosf (a GNU extension). Not vectorised: libm's scalar
// sincosf, which gives the bits of its cosf and sinf (checked for every float in [0, 7), the angles
// Box-Muller makes) and does their argument reduction once.
void swiftgan_sincos(float angle, float *sine, float *cosine) { sincosf(angle, sine, cosine); }
