// SPDX-License-Identifier: Apache-2.0
//
// PNG and JPEG codecs over libpng and libjpeg, for the Swift module ImageIO.
//
// These live in C because libjpeg reports errors by longjmp, which Swift cannot take part in;
// libpng's simplified API (png_image_*) does its own setjmp internally. Every function returns a
// TERN_IMAGE_* code and, on failure, writes a NUL-terminated message into the caller's buffer.
// Nothing here exits, aborts or prints, whatever the input bytes are.
//
// Decoded pixels are 8 bits per sample, rows top to bottom, samples interleaved
// (grey / grey+alpha / RGB / RGBA for 1 / 2 / 3 / 4 channels), rows packed (stride = width * channels).
// Memory returned by these functions is released with tern_image_free.
#ifndef TERN_CIMAGECODECS_H
#define TERN_CIMAGECODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Images with more pixels than this (width * height) are refused before any pixel memory is
/// allocated: 2^28 pixels, 1 GiB as RGBA.
#define TERN_IMAGE_MAX_PIXELS ((uint64_t)1 << 28)

/// A progressive JPEG with more scans than this is refused (a legitimate file has about ten; a
/// hostile one can make every scan cost a full pass over the coefficient buffer).
#define TERN_JPEG_MAX_SCANS 256

/// Result codes.
enum {
    TERN_IMAGE_OK = 0,
    /// A bad argument from the caller (null pointer, channel count outside 0...4, zero size).
    TERN_IMAGE_ERR_ARGUMENT = 1,
    /// The bytes are not a valid image of the format (message says why).
    TERN_IMAGE_ERR_DECODE = 2,
    /// width * height exceeds TERN_IMAGE_MAX_PIXELS, or a size would overflow; width and height
    /// of the result (decode) are still set.
    TERN_IMAGE_ERR_TOO_LARGE = 3,
    /// malloc failed.
    TERN_IMAGE_ERR_NO_MEMORY = 4,
    /// Encoding failed (message says why).
    TERN_IMAGE_ERR_ENCODE = 5,
};

/// A decoded image. `pixels` is NULL unless the call returned TERN_IMAGE_OK; then it holds
/// width * height * channels bytes and must be released with tern_image_free.
typedef struct {
    uint8_t *pixels;
    int32_t width;
    int32_t height;
    int32_t channels;
} tern_decoded_image;

/// Decodes a PNG held in memory to 8-bit samples. `channels` selects the output layout: 1 grey,
/// 2 grey+alpha, 3 RGB, 4 RGBA, or 0 for the file's own layout (palette images become RGB, or
/// RGBA when they have a tRNS chunk; grey with tRNS becomes grey+alpha). 16-bit samples without
/// gAMA/sRGB chunks are taken as sRGB-encoded and scaled to 8 bits; low bit depths are expanded.
/// Conversions requested through `channels` are libpng's (RGB to grey in linear light; removing
/// alpha composites onto black).
int tern_png_decode(const uint8_t *data, size_t size, int channels, tern_decoded_image *out,
                    char *message, size_t message_size);

/// Encodes 8-bit interleaved pixels (1...4 channels, rows packed) as a PNG in memory. On success
/// `*out` holds `*out_size` bytes, released with tern_image_free.
int tern_png_encode(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                    uint8_t **out, size_t *out_size, char *message, size_t message_size);

/// Decodes a baseline or progressive JPEG held in memory. `channels` is 1 (grey), 3 (RGB) or 0 for
/// the file's own layout (1 for a greyscale JPEG, else 3). CMYK/YCCK files are converted to RGB
/// (Adobe's inverted CMYK). A file that ends, or whose entropy-coded data ends, before the image
/// is complete is an error, not an image padded with grey.
int tern_jpeg_decode(const uint8_t *data, size_t size, int channels, tern_decoded_image *out,
                     char *message, size_t message_size);

/// Releases memory returned by the functions above (NULL is allowed).
void tern_image_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif
