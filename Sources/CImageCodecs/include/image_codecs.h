// PNG (libpng) and JPEG (libjpeg-turbo) decoding from memory into 8-bit RGB, for image folders.
#ifndef SWIFTGAN_IMAGE_CODECS_H
#define SWIFTGAN_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

/// A decoded image: `height` rows of `width` pixels of `channels` bytes (1: grey, 3: RGB), row-major.
typedef struct {
    uint8_t *pixels;
    int width;
    int height;
    int channels;
} sg_image;

/// Decodes a PNG. Returns 0 and fills `image` (free it with sg_image_free), or -1 with a message in `error`.
/// Palette, 16-bit and grey-alpha images come back as RGB or grey with alpha dropped (PIL's convert).
int sg_decode_png(const uint8_t *data, size_t size, sg_image *image, char *error, size_t error_size);

/// Decodes a baseline or progressive JPEG (grey or colour; CMYK is refused). Same contract as sg_decode_png.
int sg_decode_jpeg(const uint8_t *data, size_t size, sg_image *image, char *error, size_t error_size);

void sg_image_free(sg_image *image);

#endif
