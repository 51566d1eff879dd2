// Winograd F(4×4, 2×2): a 2×2 correlation over a 5×5 tile of its input gives a 4×4 tile of output with 25
// multiplications per (output, input) channel pair instead of 64, Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, with the
// interpolation points 0, 1, −1, 1/2 and ∞ (of those tried, the smallest float error: about 1.3e-6 of the
// largest output on random tiles, against 1.6-3.3e-6 for 2, −2 or −1/2 in place of 1/2).
// Kernels/Winograd.swift says how a stride-2 4×4 convolution becomes such correlations, and runs the GEMMs
// between these transforms.
#include "CKernels.h"
#include "widest.h"

// As everywhere in CKernels: a·b + c stays a multiply and an add, so every width gives the same bits.
#pragma clang fp contract(off)

// Channels a transform carries at once: one AVX-512 register per tile entry.
#define LANES 16

// Bᵀ applied to five values in(0..4), written to out(0..4) (rows of Bᵀ: ½ −1 −½ 1 0; 0 −½ ½ 1 0;
// 0 ½ −3⁄2 1 0; 0 −1 0 1 0; 0 ½ −1 −½ 1).
#define INPUT_1D(out, in)                                                                                    \
    do {                                                                                                     \
        float d0 = in(0), d1 = in(1), d2 = in(2), d3 = in(3), d4 = in(4);                                  \
        out(0) = 0.5f * d0 - d1 - 0.5f * d2 + d3;                                                            \
        out(1) = -0.5f * d1 + 0.5f * d2 + d3;                                                                \
        out(2) = 0.5f * d1 - 1.5f * d2 + d3;                                                                 \
        out(3) = d3 - d1;                                                                                    \
        out(4) = 0.5f * d1 - d2 - 0.5f * d3 + d4;                                                            \
    } while (0)

// Aᵀ applied to five values (rows of Aᵀ: 1 1 1 1 0; 0 1 −1 ½ 0; 0 1 1 ¼ 0; 0 1 −1 ⅛ 1).
#define OUTPUT_1D(out, in)                                                                                   \
    do {                                                                                                     \
        float m0 = in(0), m1 = in(1), m2 = in(2), m3 = in(3), m4 = in(4);                                  \
        out(0) = m0 + m1 + m2 + m3;                                                                          \
        out(1) = m1 - m2 + 0.5f * m3;                                                                        \
        out(2) = m1 + m2 + 0.25f * m3;                                                                       \
        out(3) = m1 - m2 + 0.125f * m3 + m4;                                                                 \
    } while (0)

// G applied to two values (rows of G: 2 0; 1 1; −⅓ ⅓; −8⁄3 −4⁄3; 0 1; thirds as products with the float ⅓).
#define WEIGHT_1D(out, in)                                                                                   \
    do {                                                                                                     \
        float g0 = in(0), g1 = in(1);                                                                        \
        out(0) = 2 * g0;                                                                                     \
        out(1) = g0 + g1;                                                                                    \
        out(2) = (g1 - g0) * (1.0f / 3);                                                                     \
        out(3) = (-8 * g0 - 4 * g1) * (1.0f / 3);                                                            \
        out(4) = g1;                                                                                         \
    } while (0)

// One block of `lanes` channels of one output and phase: 4 loads per channel, G g Gᵀ, 25 stores.
static inline __attribute__((always_inline)) void weight_block(const float *restrict k, long a, long b, int flip,
                                                               float *restrict target, long point_stride,
                                                               long lanes) {
    float g[2][2][LANES], t[5][2][LANES], v[5][5][LANES];
    for (long p = 0; p < 2; p++)
        for (long q = 0; q < 2; q++) {
            long row = 2 * (flip ? 1 - p : p) + a, column = 2 * (flip ? 1 - q : q) + b;
            for (long l = 0; l < lanes; l++) g[p][q][l] = k[l * 16 + row * 4 + column];
        }
    for (long q = 0; q < 2; q++)
        for (long l = 0; l < lanes; l++) {
#define IN(i) g[i][q][l]
#define OUT(i) t[i][q][l]
            WEIGHT_1D(OUT, IN);
#undef IN
#undef OUT
        }
    for (long i = 0; i < 5; i++)
        for (long l = 0; l < lanes; l++) {
#define IN(j) t[i][j][l]
#define OUT(j) v[i][j][l]
            WEIGHT_1D(OUT, IN);
#undef IN
#undef OUT
        }
    for (long point = 0; point < 25; point++)
        for (long l = 0; l < lanes; l++) target[point * point_stride + l] = v[point / 5][point % 5][l];
}

SWIFTGAN_WIDEST
void swiftgan_winograd_weights(const float *restrict w, long outputs, long channels, int flip, long first,
                               long last, float *restrict u) {
    long row_length = 4 * channels, point_stride = outputs * row_length;
    for (long o = first; o < last; o++)
        for (long phase = 0; phase < 4; phase++) {
            const float *k = w + o * channels * 16;  // (C, 4, 4)
            float *target = u + o * row_length + phase * channels;
            long c = 0;
            for (; c + LANES <= channels; c += LANES)
                weight_block(k + c * 16, phase / 2, phase % 2, flip, target + c, point_stride, LANES);
            if (c < channels)
                weight_block(k + c * 16, phase / 2, phase % 2, flip, target + c, point_stride, channels - c);
        }
}

SWIFTGAN_WIDEST
void swiftgan_winograd_pad(const float *restrict x, long channels, long height, long width, long rows,
                           long columns, float *restrict padded) {
    long row_length = columns * channels;
    // Zero only what the image does not cover: the top row, the rows below it, and each row's two margins.
    for (long i = 0; i < row_length; i++) padded[i] = 0;
    for (long i = (height + 1) * row_length; i < rows * row_length; i++) padded[i] = 0;
    for (long h = 1; h <= height; h++) {
        float *row = padded + h * row_length;
        for (long i = 0; i < channels; i++) row[i] = 0;
        for (long i = (width + 1) * channels; i < row_length; i++) row[i] = 0;
    }
    for (long c = 0; c < channels; c++)
        for (long h = 0; h < height; h++) {
            const float *source = x + (c * height + h) * width;
            float *target = padded + ((h + 1) * columns + 1) * channels + c;
            for (long w = 0; w < width; w++) target[w * channels] = source[w];
        }
}

// One block of `lanes` channels of one tile: 25 loads, Bᵀ d B, 25 stores.
static inline __attribute__((always_inline)) void input_block(const float *restrict source, long row_step,
                                                              long column_step, float *restrict target,
                                                              long point_stride, long lanes) {
    float d[5][5][LANES], t[5][5][LANES];
    for (long i = 0; i < 5; i++)
        for (long j = 0; j < 5; j++)
            for (long l = 0; l < lanes; l++) d[i][j][l] = source[i * row_step + j * column_step + l];
    for (long i = 0; i < 5; i++)
        for (long l = 0; l < lanes; l++) {
#define IN(j) d[i][j][l]
#define OUT(j) t[i][j][l]
            INPUT_1D(OUT, IN);
#undef IN
#undef OUT
        }
    for (long j = 0; j < 5; j++)
        for (long l = 0; l < lanes; l++) {
#define IN(i) t[i][j][l]
#define OUT(i) d[i][j][l]
            INPUT_1D(OUT, IN);
#undef IN
#undef OUT
        }
    for (long point = 0; point < 25; point++)
        for (long l = 0; l < lanes; l++) target[point * point_stride + l] = d[point / 5][point % 5][l];
}

SWIFTGAN_WIDEST
void swiftgan_winograd_input(const float *restrict padded, long columns, long channels, long step,
                             long tile_rows, long tile_columns, float *restrict v, long point_stride,
                             long row_length) {
    long row_step = step * columns * channels, column_step = step * channels;
    for (long phase = 0; phase < step * step; phase++) {
        long a = phase / step, b = phase % step;
        for (long ti = 0; ti < tile_rows; ti++)
            for (long tj = 0; tj < tile_columns; tj++) {
                const float *corner = padded + ((step * 4 * ti + a) * columns + step * 4 * tj + b) * channels;
                float *target = v + (ti * tile_columns + tj) * row_length + phase * channels;
                long c = 0;
                for (; c + LANES <= channels; c += LANES)
                    input_block(corner + c, row_step, column_step, target + c, point_stride, LANES);
                if (c < channels)
                    input_block(corner + c, row_step, column_step, target + c, point_stride, channels - c);
            }
    }
}

// One block of `lanes` values of one tile: 25 loads, Aᵀ m A, 16 stores into the grid.
static inline __attribute__((always_inline)) void output_block(const float *restrict source, long point_stride,
                                                               float *restrict corner, long grid_row,
                                                               long row_length, long lanes) {
    float m[5][5][LANES], s[5][4][LANES];
    for (long point = 0; point < 25; point++)
        for (long l = 0; l < lanes; l++) m[point / 5][point % 5][l] = source[point * point_stride + l];
    for (long i = 0; i < 5; i++)
        for (long l = 0; l < lanes; l++) {
#define IN(j) m[i][j][l]
#define OUT(j) s[i][j][l]
            OUTPUT_1D(OUT, IN);
#undef IN
#undef OUT
        }
    for (long j = 0; j < 4; j++)
        for (long l = 0; l < lanes; l++) {
#define IN(i) s[i][j][l]
#define OUT(i) corner[(i) * grid_row + j * row_length + l]
            OUTPUT_1D(OUT, IN);
#undef IN
#undef OUT
        }
}

SWIFTGAN_WIDEST
void swiftgan_winograd_output(const float *restrict m, long point_stride, long row_length, long tile_rows,
                              long tile_columns, float *restrict grid) {
    long grid_row = 4 * tile_columns * row_length;
    for (long ti = 0; ti < tile_rows; ti++)
        for (long tj = 0; tj < tile_columns; tj++) {
            const float *source = m + (ti * tile_columns + tj) * row_length;
            float *corner = grid + 4 * ti * grid_row + 4 * tj * row_length;
            long k = 0;
            for (; k + LANES <= row_length; k += LANES)
                output_block(source + k, point_stride, corner + k, grid_row, row_length, LANES);
            if (k < row_length) output_block(source + k, point_stride, corner + k, grid_row, row_length, row_length - k);
        }
}

// `swiftgan_winograd_unpack` for one step, a constant once inlined, so that its divisions are shifts.
static inline __attribute__((always_inline)) void unpack(const float *restrict grid, long grid_columns,
                                                         long channels, const long step, long offset,
                                                         const float *restrict bias, float *restrict image,
                                                         long height, long width) {
    long row_length = step * step * channels;
    for (long c = 0; c < channels; c++) {
        float shift = bias ? bias[c] : 0;  // a sum + 0 is the sum itself
        for (long h = 0; h < height; h++) {
            long r = h + offset;
            const float *row = grid + (r / step) * grid_columns * row_length + (r % step) * step * channels + c;
            float *target = image + (c * height + h) * width;
            for (long w = 0; w < width; w++) {
                long q = w + offset;
                target[w] = row[(q / step) * row_length + (q % step) * channels] + shift;
            }
        }
    }
}

SWIFTGAN_WIDEST
void swiftgan_winograd_unpack(const float *restrict grid, long grid_columns, long channels, long step,
                              long offset, const float *restrict bias, float *restrict image, long height,
                              long width) {
    if (step == 2) unpack(grid, grid_columns, channels, 2, offset, bias, image, height, width);
    else unpack(grid, grid_columns, channels, 1, offset, bias, image, height, width);
}
