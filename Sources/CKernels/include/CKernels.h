// Loops that Swift cannot make fast on the x86-64 baseline this package builds for:
// - a square root in Swift (`Float.squareRoot()`, and `SIMD8<Float>.squareRoot()`, which is done value by
//   value) keeps a call to libm's sqrtf for negative inputs (errno), a branch that stops vectorisation.
//   Clang's `__builtin_elementwise_sqrt` has no such path;
// - loops bound by arithmetic rather than memory (the optimisers' divisions and square roots, tanh's and the
//   logistic's polynomials, sums in double, Philox and Box–Muller for the noise), which Swift runs two or
//   four lanes wide. Here each is also built for AVX2 and AVX-512 and picked at load time (kernels.c).
// Each value sees the operations of the Swift code it replaces (the noise: of its own polynomials), in the
// same order, with no contraction into fused multiply-adds, so results do not depend on where a loop is cut.
#ifndef SWIFTGAN_CKERNELS_H
#define SWIFTGAN_CKERNELS_H

#include <stdint.h>

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

/// `count` standard normals from Philox 4x32-10 blocks 0, 1, 2, ... at counters (block, c1, c2, c3) under
/// (key0, key1): block b's words (w₀, w₁, w₂, w₃) give normals 4b to 4b + 3 by Box–Muller on (w₀, w₁) and
/// (w₂, w₃), cosine first (Philox.normals says how). The words are Philox.block's; the logarithm, sine and
/// cosine are polynomials here, so that the loop vectorises.
void swiftgan_philox_normals(uint32_t key0, uint32_t key1, uint32_t c1, uint32_t c2, uint32_t c3, long count,
                             float *target);

/// Whether this CPU runs the AVX-512 kernels below.
int swiftgan_has_avx512(void);

/// im2col of one `height` × `width` plane for a stride-2 convolution (kernel k, padding p, output OH × OW) on
/// a plane small enough for Kernels.runsByPhase: tap (ki, kj)'s run, OH·OW values from
/// runs + (ki·k + kj)·tap_stride, holds x[2oh − p + ki][2ow − p + kj], 0 in the padding. AVX-512 only.
void swiftgan_im2col_stride2(const float *plane, long height, long width, long kernel, long padding,
                             long out_height, long out_width, float *runs, long tap_stride);

/// col2im of one plane on the same geometry: image[h][w] = Σ over the taps (ki, kj) that land on (h, w), in
/// tap order and from +0, of their run's entry, + shift. The bits of Kernels.col2im's gather. AVX-512 only.
void swiftgan_col2im_stride2(const float *runs, long tap_stride, long height, long width, long kernel,
                             long padding, long out_height, long out_width, float shift, float *image);

// Winograd F(4×4, 2×2) for stride-2 4×4 convolutions with padding 1 (winograd.c; Kernels/Winograd.swift says
// how the convolution becomes 2×2 correlations). A point is 5ξ + ν, (ξ, ν) an entry of a 5×5 transformed
// tile; a phase is 2a + b, (a, b) the parities of a padded input's rows and columns.

/// The weights w (O, C, 4, 4) transformed: u[point·O·4C + o·4C + phase·C + c] = (G g Gᵀ)[ξ][ν] with
/// g[p][q] = w[o][c][2p + a][2q + b], or with `flip` w[o][c][2(1 − p) + a][2(1 − q) + b]; for the outputs
/// o in first ..< last (so that threads can share them).
void swiftgan_winograd_weights(const float *w, long outputs, long channels, int flip, long first, long last,
                               float *u);

/// One sample's (C, H, W) as (rows, columns, C), one row and one column down and right:
/// padded[h + 1][w + 1][c] = x[c][h][w], 0 everywhere else.
void swiftgan_winograd_pad(const float *x, long channels, long height, long width, long rows, long columns,
                           float *padded);

/// One padded sample's input tiles, transformed: for each of step² phases and each tile (ti, tj),
/// d[ξ][ν] = padded[step·(4ti + ξ) + a][step·(4tj + ν) + b][c] and
/// v[point·point_stride + (ti·tile_columns + tj)·row_length + phase·C + c] = (Bᵀ d B)[ξ][ν].
void swiftgan_winograd_input(const float *padded, long columns, long channels, long step, long tile_rows,
                             long tile_columns, float *v, long point_stride, long row_length);

/// Products m, laid out as `swiftgan_winograd_input`'s v, back to one sample's tiles: Y = Aᵀ m A for each
/// tile and each of the row_length values, grid[4ti + i][4tj + j][k] = Y[i][j], a (4·tile_rows, 4·tile_columns,
/// row_length) grid.
void swiftgan_winograd_output(const float *m, long point_stride, long row_length, long tile_rows,
                              long tile_columns, float *grid);

/// One sample's image (C, height, width) from its grid (rows, grid_columns, step²·C) of phase planes:
/// image[c][h][w] = grid[(h + offset) / step][(w + offset) / step][phase·C + c] + bias[c] (bias may be null),
/// phase = step·((h + offset) mod step) + (w + offset) mod step; step 1 or 2.
void swiftgan_winograd_unpack(const float *grid, long grid_columns, long channels, long step, long offset,
                              const float *bias, float *image, long height, long width);

#endif
