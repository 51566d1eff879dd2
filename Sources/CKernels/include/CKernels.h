// Loops Swift cannot vectorise on the x86-64 baseline: a square root in Swift (`Float.squareRoot()`, and
// `SIMD8<Float>.squareRoot()`, which is done value by value) keeps a call to libm's sqrtf for negative inputs
// (errno), a branch that stops vectorisation. Clang's `__builtin_elementwise_sqrt` has no such path.
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

#endif
