// Decoding with the system libraries. libjpeg reports errors by longjmp, which Swift cannot catch, so
// both decoders live here and return error codes.
#include "image_codecs.h"

#include <stdio.h>  // jpeglib.h uses FILE without including it
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

// Images larger than this many pixels are refused before allocation (a damaged header can claim 4G x 4G).
#define SG_MAX_PIXELS (1u << 28)

static int fail(char *error, size_t error_size, const char *message) {
    snprintf(error, error_size, "%s", message);
    return -1;
}

void sg_image_free(sg_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}

// MARK: PNG, through libpng's simplified API (errors come back in image.message, no longjmp).

int sg_decode_png(const uint8_t *data, size_t size, sg_image *out, char *error, size_t error_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) return fail(error, error_size, image.message);
    if ((size_t)image.width * image.height > SG_MAX_PIXELS) {
        png_image_free(&image);
        return fail(error, error_size, "image too large");
    }
    // Colour (or palette) images as RGBA, grey ones as grey+alpha; the alpha is dropped below, as PIL's
    // convert("RGB") and convert("L") drop it.
    int colour = (image.format & (PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_COLORMAP)) != 0;
    image.format = colour ? PNG_FORMAT_RGBA : PNG_FORMAT_GA;
    int stride_channels = colour ? 4 : 2;
    size_t count = (size_t)image.width * image.height;
    uint8_t *buffer = malloc(count * stride_channels);
    if (!buffer) {
        png_image_free(&image);
        return fail(error, error_size, "out of memory");
    }
    if (!png_image_finish_read(&image, NULL, buffer, 0, NULL)) {
        free(buffer);
        return fail(error, error_size, image.message);
    }
    int channels = colour ? 3 : 1;
    for (size_t i = 0; i < count; i++)
        for (int c = 0; c < channels; c++) buffer[i * channels + c] = buffer[i * stride_channels + c];
    out->pixels = buffer;
    out->width = (int)image.width;
    out->height = (int)image.height;
    out->channels = channels;
    return 0;
}

// MARK: JPEG

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf escape;
} sg_jpeg_error;

static void sg_jpeg_exit(j_common_ptr info) {
    longjmp(((sg_jpeg_error *)info->err)->escape, 1);
}

static void sg_jpeg_silent(j_common_ptr info, int level) {
    (void)info;
    (void)level;
}

int sg_decode_jpeg(const uint8_t *data, size_t size, sg_image *out, char *error, size_t error_size) {
    struct jpeg_decompress_struct info;
    sg_jpeg_error failure;
    uint8_t *volatile buffer = NULL;
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = sg_jpeg_exit;
    failure.manager.emit_message = sg_jpeg_silent;
    if (setjmp(failure.escape)) {
        char message[JMSG_LENGTH_MAX];
        (*info.err->format_message)((j_common_ptr)&info, message);
        jpeg_destroy_decompress(&info);
        free(buffer);
        return fail(error, error_size, message);
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&info);
        return fail(error, error_size, "CMYK JPEG images are not supported");
    }
    int grey = info.num_components == 1;
    info.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    size_t width = info.output_width, height = info.output_height, channels = info.output_components;
    if (width * height > SG_MAX_PIXELS) {
        jpeg_destroy_decompress(&info);
        return fail(error, error_size, "image too large");
    }
    buffer = malloc(width * height * channels);
    if (!buffer) {
        jpeg_destroy_decompress(&info);
        return fail(error, error_size, "out of memory");
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = buffer + (size_t)info.output_scanline * width * channels;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    // A truncated file decodes with grey padding and a warning; treat it as damaged.
    int truncated = failure.manager.num_warnings > 0;
    jpeg_destroy_decompress(&info);
    if (truncated) {
        free(buffer);
        return fail(error, error_size, "truncated or damaged JPEG data");
    }
    out->pixels = buffer;
    out->width = (int)width;
    out->height = (int)height;
    out->channels = (int)channels;
    return 0;
}
