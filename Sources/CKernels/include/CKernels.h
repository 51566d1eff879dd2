// Loops that Swift cannot make fast on the x86-64 baseline this package builds for:
// - a square root in Swift (`Float.squareRoot()`, and `SIMD8<Float>.squareRoot()`, which is done value by
//   value) keeps a call to libm's sqrtf for negative inputs (errno), a branch that stops vectorisation.
//   Clang's `__builtin_elementwise_sqrt` has no such path;
// - loops bound by arithmetic rather than memory (the optimisers' divisions and square roots, tanh's and the
//   logistic's polynomials, sums in double), which Swift runs two or four lanes wide. Here each is also
//   built for AVX2 and AVX-512 and picked at load time (kernels.c).
// Each value sees the operations of the Swift code it replaces, in the same order, with no contraction
// into fused multiply-adds, so results do not depend on where a loop is cut.
#ifndef SWIFTGAN_CKERNELS_H
#define SWIFTGAN_CKERNELS_H

/// PyTorch's Adam on `count` parameters in place: g' = g + decay·p, m += (1 − β₁)(g' − m),
/// v = β₂v + (1 − β₂)g'², p −= stepSize · m / (√v / correction2Root + ε).
void swiftgan_adam(float *parameters, const float *gradients, float *first_moments, float *second_moments,
                   long count, float step_size, float beta1, float beta2, float epsilon, float weight_decay,
                   float correction2_root);

/// PyTorch's RMSprop (not centred, no momentum): s = αs + (1 − α)g², p −= rate · g / (√s + ε).
void swiftgan_rmsprop(float *parameters, const float *gradients, float *squares, long count, float rate,
                      float alpha, float epsilon);

/// y = √x, elementwise.
void swiftgan_square_root(const float *x, float *y, long count);

/// y = tanh x, elementwise: (1 − e)/(1 + e) with e = e^(−2|x|) and the sign of x; near 0, where that
/// difference cancels, its odd Taylor polynomial to x⁷. Within 1e-6 relative of libm's.
void swiftgan_tanh(const float *x, float *y, long count);

/// y = 1/(1 + e⁻ˣ), elementwise and without overflow: with e = e^(−|x|), 1/(1 + e) for x ≥ 0 and e/(1 + e)
/// below. Within 1e-6 relative of libm's.
void swiftgan_logistic(const float *x, float *y, long count);

/// totals[c] += Σₙ x[n·stride + c] for c < columns, over `rows` rows in order, in double precision: the
/// per-channel sums of a Linear layer's `(N, C)` output gradient (its bias gradient).
void swiftgan_add_rows(const float *x, double *totals, long rows, long stride, long columns);

/// sin and cos of `angle` from one libm call, the same bits as sinf and cosf.
void swiftgan_sincos(float angle, float *sine, float *cosine);

#endif
