// SPDX-License-Identifier: Apache-2.0
//
// PNG (libpng simplified API) and JPEG (libjpeg, errors caught by setjmp/longjmp) codecs.
// See include/CImageCodecs.h for the contract: error codes and messages, never exit or abort.

#include "CImageCodecs.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

static void set_message(char *message, size_t message_size, const char *format, ...) {
    if (message == NULL || message_size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(message, message_size, format, args);
    va_end(args);
}

static void reset_output(tern_decoded_image *out) {
    out->pixels = NULL;
    out->width = 0;
    out->height = 0;
    out->channels = 0;
}

void tern_image_free(void *pointer) { free(pointer); }

// MARK: PNG

static png_uint_32 png_format_for(int channels) {
    switch (channels) {
    case 1: return PNG_FORMAT_GRAY;
    case 2: return PNG_FORMAT_GA;
    case 3: return PNG_FORMAT_RGB;
    default: return PNG_FORMAT_RGBA;
    }
}

/* The start every decoder shares: clear the message, require an output image and reset it. */
static int begin_decode(tern_decoded_image *out, char *message, size_t message_size) {
    set_message(message, message_size, "%s", "");
    if (out == NULL) {
        set_message(message, message_size, "no output image");
        return TERN_IMAGE_ERR_ARGUMENT;
    }
    reset_output(out);
    return TERN_IMAGE_OK;
}

int tern_png_decode(const uint8_t *data, size_t size, int channels, tern_decoded_image *out,
                    char *message, size_t message_size) {
    int started = begin_decode(out, message, message_size);
    if (started != TERN_IMAGE_OK) return started;
    if (channels < 0 || channels > 4) {
        set_message(message, message_size, "channel count %d is not 0 (native), 1, 2, 3 or 4", channels);
        return TERN_IMAGE_ERR_ARGUMENT;
    }
    if (data == NULL || size == 0) {
        set_message(message, message_size, "empty input");
        return TERN_IMAGE_ERR_DECODE;
    }

    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        set_message(message, message_size, "%s", image.message);
        png_image_free(&image);
        return TERN_IMAGE_ERR_DECODE;
    }
    // libpng caps each dimension at 2^31 - 1 (and by default at 1,000,000), so these fit.
    out->width = (int32_t)image.width;
    out->height = (int32_t)image.height;
    uint64_t pixel_count = (uint64_t)image.width * (uint64_t)image.height;
    if (pixel_count > TERN_IMAGE_MAX_PIXELS) {
        set_message(message, message_size, "%ux%u image has more than %llu pixels", image.width, image.height,
                    (unsigned long long)TERN_IMAGE_MAX_PIXELS);
        png_image_free(&image);
        return TERN_IMAGE_ERR_TOO_LARGE;
    }

    int native = ((image.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1) + ((image.format & PNG_FORMAT_FLAG_ALPHA) ? 1 : 0);
    int c = channels != 0 ? channels : native;
    // 8-bit sRGB output, direct (no colour map, no linear, no premultiplication).
    image.format = png_format_for(c);
    // Without this libpng takes 16-bit files lacking gAMA/sRGB as linear and gamma-encodes them on
    // the way to 8 bits (32768 would become 188, not 128).
    image.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;

    // Both at most 2^28 * 4 = 2^30: no overflow in size_t or png_int_32.
    size_t stride = (size_t)image.width * (size_t)c;
    size_t byte_count = (size_t)pixel_count * (size_t)c;
    uint8_t *pixels = malloc(byte_count > 0 ? byte_count : 1);
    if (pixels == NULL) {
        set_message(message, message_size, "cannot allocate %zu bytes for a %ux%u image", byte_count, image.width,
                    image.height);
        png_image_free(&image);
        return TERN_IMAGE_ERR_NO_MEMORY;
    }
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&image, &black, pixels, (png_int_32)stride, NULL)) {
        set_message(message, message_size, "%s", image.message);
        png_image_free(&image);
        free(pixels);
        return TERN_IMAGE_ERR_DECODE;
    }
    png_image_free(&image);
    out->pixels = pixels;
    out->channels = c;
    return TERN_IMAGE_OK;
}

int tern_png_encode(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                    uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    set_message(message, message_size, "%s", "");
    if (out == NULL || out_size == NULL) {
        set_message(message, message_size, "no output buffer");
        return TERN_IMAGE_ERR_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    if (channels < 1 || channels > 4) {
        set_message(message, message_size, "channel count %d is not 1, 2, 3 or 4", channels);
        return TERN_IMAGE_ERR_ARGUMENT;
    }
    if (width <= 0 || height <= 0) {
        set_message(message, message_size, "a PNG cannot hold a %dx%d image", width, height);
        return TERN_IMAGE_ERR_ARGUMENT;
    }
    if (pixels == NULL) {
        set_message(message, message_size, "no pixels");
        return TERN_IMAGE_ERR_ARGUMENT;
    }
    if ((uint64_t)width * (uint64_t)height > TERN_IMAGE_MAX_PIXELS) {
        set_message(message, message_size, "%dx%d image has more than %llu pixels", width, height,
                    (unsigned long long)TERN_IMAGE_MAX_PIXELS);
        return TERN_IMAGE_ERR_TOO_LARGE;
    }

    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = png_format_for(channels);
    png_int_32 stride = (png_int_32)((int64_t)width * channels);  // at most 2^30

    // An upper bound for the stream, so one compression pass normally suffices; if libpng says
    // it needed more, grow to exactly that and write again.
    png_alloc_size_t capacity = PNG_IMAGE_PNG_SIZE_MAX(image);
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buffer = malloc(capacity);
        if (buffer == NULL) {
            set_message(message, message_size, "cannot allocate %zu bytes for the PNG stream", (size_t)capacity);
            return TERN_IMAGE_ERR_NO_MEMORY;
        }
        png_alloc_size_t written = capacity;
        int ok = png_image_write_to_memory(&image, buffer, &written, 0, pixels, stride, NULL);
        if (ok) {
            uint8_t *shrunk = realloc(buffer, written > 0 ? written : 1);
            *out = shrunk != NULL ? shrunk : buffer;
            *out_size = written;
            png_image_free(&image);
            return TERN_IMAGE_OK;
        }
        free(buffer);
        if (written > capacity) {  // too small a buffer, not an error
            capacity = written;
            png_image_free(&image);
            memset(&image, 0, sizeof image);
            image.version = PNG_IMAGE_VERSION;
            image.width = (png_uint_32)width;
            image.height = (png_uint_32)height;
            image.format = png_format_for(channels);
            continue;
        }
        set_message(message, message_size, "%s", image.message[0] ? image.message : "png_image_write_to_memory failed");
        png_image_free(&image);
        return TERN_IMAGE_ERR_ENCODE;
    }
    set_message(message, message_size, "PNG stream kept outgrowing its buffer");
    png_image_free(&image);
    return TERN_IMAGE_ERR_ENCODE;
}

// MARK: JPEG

typedef struct {
    struct jpeg_error_mgr pub;  // first, so a j_common_ptr's err can be cast to this
    jmp_buf jump;
    char *message;
    size_t message_size;
    volatile int code;
    // Whether running out of input (JWRN_JPEG_EOF) is fatal; see tern_jpeg_emit_message.
    volatile int eof_is_fatal;
} tern_jpeg_error;

__attribute__((noreturn)) static void tern_jpeg_fail(j_common_ptr cinfo, int code) {
    tern_jpeg_error *error = (tern_jpeg_error *)cinfo->err;
    error->code = code;
    longjmp(error->jump, 1);
}

// libjpeg's default error_exit prints and calls exit(); this records the message and jumps back.
__attribute__((noreturn)) static void tern_jpeg_error_exit(j_common_ptr cinfo) {
    tern_jpeg_error *error = (tern_jpeg_error *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    set_message(error->message, error->message_size, "%s", text);
    tern_jpeg_fail(cinfo, cinfo->err->msg_code == JERR_OUT_OF_MEMORY ? TERN_IMAGE_ERR_NO_MEMORY : TERN_IMAGE_ERR_DECODE);
}

// Warnings are counted, never printed, except that running out of data is an error: libjpeg
// would otherwise pad the rest of a truncated image with grey and report success.
//
// JWRN_HIT_MARKER means the entropy decoder needed bits past the end of the data: always fatal.
// JWRN_JPEG_EOF means the source ran dry; the Huffman decoder reads ahead, so a single-scan file
// that lacks only its EOI marker raises it with every pixel decoded. It is fatal in the headers
// and in multi-scan (progressive) files, where a file cut at a scan boundary raises nothing else
// and would come out blurred or with missing components.
static void tern_jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level >= 0) return;  // trace messages
    int code = cinfo->err->msg_code;
    tern_jpeg_error *error = (tern_jpeg_error *)cinfo->err;
    if (code == JWRN_HIT_MARKER || (code == JWRN_JPEG_EOF && error->eof_is_fatal)) tern_jpeg_error_exit(cinfo);
    cinfo->err->num_warnings++;
}

static void tern_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

// Called between scans and iMCU rows; bounds the work a hostile progressive file can demand.
static void tern_jpeg_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > TERN_JPEG_MAX_SCANS) {
        tern_jpeg_error *error = (tern_jpeg_error *)cinfo->err;
        set_message(error->message, error->message_size, "more than %d scans", TERN_JPEG_MAX_SCANS);
        tern_jpeg_fail(cinfo, TERN_IMAGE_ERR_DECODE);
    }
}

static inline uint8_t mul255(unsigned a, unsigned b) { return (uint8_t)((a * b + 127) / 255); }

// One row of CMYK (Adobe files store it inverted: 255 = no ink) to RGB or grey.
static void cmyk_row(const uint8_t *src, uint8_t *dst, size_t width, int channels, int inverted) {
    for (size_t x = 0; x < width; x++) {
        unsigned cc = src[4 * x], m = src[4 * x + 1], y = src[4 * x + 2], k = src[4 * x + 3];
        if (!inverted) {
            cc = 255 - cc;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        uint8_t r = mul255(cc, k), g = mul255(m, k), b = mul255(y, k);
        if (channels == 1) {
            dst[x] = (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
        } else {
            dst[3 * x] = r;
            dst[3 * x + 1] = g;
            dst[3 * x + 2] = b;
        }
    }
}

int tern_jpeg_decode(const uint8_t *data, size_t size, int channels, tern_decoded_image *out,
                     char *message, size_t message_size) {
    int started = begin_decode(out, message, message_size);
    if (started != TERN_IMAGE_OK) return started;
    if (channels != 0 && channels != 1 && channels != 3) {
        set_message(message, message_size, "channel count %d is not 0 (native), 1 or 3", channels);
        return TERN_IMAGE_ERR_ARGUMENT;
    }
    if (data == NULL || size == 0) {
        set_message(message, message_size, "empty input");
        return TERN_IMAGE_ERR_DECODE;
    }
    if (size > ULONG_MAX) {
        set_message(message, message_size, "input of %zu bytes is too large for libjpeg", size);
        return TERN_IMAGE_ERR_TOO_LARGE;
    }

    struct jpeg_decompress_struct cinfo;
    tern_jpeg_error error;
    struct jpeg_progress_mgr progress;
    memset(&cinfo, 0, sizeof cinfo);
    memset(&progress, 0, sizeof progress);
    // Written after setjmp and read after longjmp, hence volatile.
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;

    cinfo.err = jpeg_std_error(&error.pub);
    error.pub.error_exit = tern_jpeg_error_exit;
    error.pub.emit_message = tern_jpeg_emit_message;
    error.pub.output_message = tern_jpeg_output_message;
    error.message = message;
    error.message_size = message_size;
    error.code = TERN_IMAGE_ERR_DECODE;
    error.eof_is_fatal = 1;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        out->pixels = NULL;
        out->channels = 0;
        return error.code;
    }
    jpeg_create_decompress(&cinfo);
    progress.progress_monitor = tern_jpeg_progress;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    error.eof_is_fatal = jpeg_has_multiple_scans(&cinfo);

    out->width = (int32_t)cinfo.image_width;  // libjpeg caps dimensions at 65500
    out->height = (int32_t)cinfo.image_height;
    uint64_t pixel_count = (uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height;
    if (pixel_count > TERN_IMAGE_MAX_PIXELS) {
        set_message(message, message_size, "%ux%u image has more than %llu pixels", cinfo.image_width,
                    cinfo.image_height, (unsigned long long)TERN_IMAGE_MAX_PIXELS);
        jpeg_destroy_decompress(&cinfo);
        return TERN_IMAGE_ERR_TOO_LARGE;
    }

    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    int native = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    int c = channels != 0 ? channels : native;
    cinfo.out_color_space = cmyk ? JCS_CMYK : (c == 1 ? JCS_GRAYSCALE : JCS_RGB);
    jpeg_start_decompress(&cinfo);

    int expected_components = cmyk ? 4 : c;
    if (cinfo.output_components != expected_components || cinfo.output_width != cinfo.image_width ||
        cinfo.output_height != cinfo.image_height) {
        set_message(message, message_size, "unexpected output layout (%d components, %ux%u)", cinfo.output_components,
                    cinfo.output_width, cinfo.output_height);
        tern_jpeg_fail((j_common_ptr)&cinfo, TERN_IMAGE_ERR_DECODE);
    }
    size_t width = cinfo.output_width;
    size_t stride = width * (size_t)c;
    size_t byte_count = (size_t)pixel_count * (size_t)c;
    pixels = malloc(byte_count > 0 ? byte_count : 1);
    if (cmyk) row = malloc(width * 4);
    if (pixels == NULL || (cmyk && row == NULL)) {
        set_message(message, message_size, "cannot allocate %zu bytes for a %ux%u image", byte_count,
                    cinfo.image_width, cinfo.image_height);
        tern_jpeg_fail((j_common_ptr)&cinfo, TERN_IMAGE_ERR_NO_MEMORY);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *destination = pixels + (size_t)cinfo.output_scanline * stride;
        JSAMPROW target = cmyk ? row : destination;
        if (jpeg_read_scanlines(&cinfo, &target, 1) != 1) {  // a memory source never suspends
            set_message(message, message_size, "decoder stopped at row %u of %u", cinfo.output_scanline,
                        cinfo.output_height);
            tern_jpeg_fail((j_common_ptr)&cinfo, TERN_IMAGE_ERR_DECODE);
        }
        if (cmyk) cmyk_row(row, destination, width, c, cinfo.saw_Adobe_marker);
    }
    // No jpeg_finish_decompress: every row is decoded, and a file missing only its EOI marker
    // is still a whole image.
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->pixels = pixels;
    out->channels = c;
    return TERN_IMAGE_OK;
}
