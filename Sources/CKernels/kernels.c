#include "CKernels.h"

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
