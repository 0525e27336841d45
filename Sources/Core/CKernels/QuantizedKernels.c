// SPDX-License-Identifier: Apache-2.0
//
// Quantized dot-product kernels for x86-64 (AVX2 + FMA + F16C baseline, AVX-512 VNNI behind a
// runtime check). The arithmetic is fixed by the Swift references in Sources/Kernels: per 32-element
// block, eight int32 lanes each hold the exact sum of four consecutive byte products (lanes 0-3 from
// elements 0..15, lanes 4-7 from 16..31); the lanes become floats and are fused into a per-lane
// accumulator with the block's scale product d_w*d_a; Q4_1 adds m_w*s_a into a separate scalar
// chain; the end is ggml's hsum of eight lanes plus that chain. Integer sums are exact, so maddubs
// and vpdpbusd give the same lanes; only the float order matters, and it never changes here.
// This file is compiled with -ffp-contract=off: every fused multiply-add is written out.

#include "CKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

// Packed activations (GEMM): per group of 8 tokens and per block, PACK_BLOCK bytes:
//   qs   [4 pairs][64]  int8, pair p = tokens 2p and 2p+1, each 32 bytes
//   dd   [4 pairs][16]  float, d of token 2p in lanes 0-7 and of 2p+1 in lanes 8-15
//   s    [8]            float, Q8_1 s of each token (Q4_1 weights)
//   corr [4 pairs][16]  int32, -128 * (sum of each 4 activations) (Q8_0 weights)
enum { PACK_GROUP = 8, PACK_BLOCK = 832, OFF_DD = 256, OFF_S = 512, OFF_CORR = 576 };

static int detect_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!(osxsave && avx && fma && f16c)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6) != 0x6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!((b >> 5) & 1)) return 0;  // AVX2
    int avx512 = ((b >> 16) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1) && ((c >> 11) & 1);
    if (avx512 && (lo & 0xE6) == 0xE6) return 2;
    return 1;
}

int tern_simd_level(void) {
    static int level = -1;
    if (level < 0) level = detect_level();
    return level;
}

size_t tern_packed_bytes(int tokens, int blocks) {
    return (size_t)((tokens + PACK_GROUP - 1) / PACK_GROUP) * (size_t)blocks * PACK_BLOCK;
}

INLINE float f16_to_f32(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

INLINE int load_u32(const void *p) {
    int v;
    memcpy(&v, p, 4);
    return v;
}

INLINE uint16_t f32_to_f16(float f) { return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }

// ggml's hsum_float_8: (hi + lo), then (r0 + r2) + (r1 + r3).
INLINE float hsum8(__m256 v) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

INLINE float hsum8_scalar(const float *v) {
    float r0 = v[4] + v[0], r1 = v[5] + v[1], r2 = v[6] + v[2], r3 = v[7] + v[3];
    return (r0 + r2) + (r1 + r3);
}

// MARK: - activation quantization

// Quantizes 32 floats: q = round-half-even(x * 127/amax); returns d = amax/127 (as f32) and the
// sum of q.
INLINE float quantize_block(const float *x, int8_t *q, int *sum) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
    __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signBit, v0), _mm256_andnot_ps(signBit, v1)),
                             _mm256_max_ps(_mm256_andnot_ps(signBit, v2), _mm256_andnot_ps(signBit, v3)));
    __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    const __m256 mul = _mm256_set1_ps(id);
#define mode (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
    __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), mode));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), mode));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), mode));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), mode));
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
    __m128i s4 = _mm_add_epi32(_mm256_extracti128_si256(s, 1), _mm256_castsi256_si128(s));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
    *sum = _mm_cvtsi128_si32(s4);
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p);
#undef mode
    return d;
}

void tern_quantize_q8_0(const float *x, void *dst, int count) {
    uint8_t *out = (uint8_t *)dst;
    for (int b = 0; b < count / 32; b++, out += 34) {
        int sum;
        float d = quantize_block(x + 32 * b, (int8_t *)(out + 2), &sum);
        uint16_t h = f32_to_f16(d);
        memcpy(out, &h, 2);
    }
}

void tern_quantize_q8_1(const float *x, void *dst, int count) {
    uint8_t *out = (uint8_t *)dst;
    for (int b = 0; b < count / 32; b++, out += 36) {
        int sum;
        float d = quantize_block(x + 32 * b, (int8_t *)(out + 4), &sum);
        uint16_t h = f32_to_f16(d), s = f32_to_f16(d * (float)sum);
        memcpy(out, &h, 2);
        memcpy(out + 2, &s, 2);
    }
}

void tern_pack_activations(const float *x, int ldx, int tokens, int blocks, void *packed,
                           int groupBegin, int groupEnd, int withMins) {
    for (int g = groupBegin; g < groupEnd; g++) {
        for (int b = 0; b < blocks; b++) {
            uint8_t *pb = (uint8_t *)packed + ((size_t)g * blocks + b) * PACK_BLOCK;
            float *dd = (float *)(pb + OFF_DD), *s = (float *)(pb + OFF_S);
            int32_t *corr = (int32_t *)(pb + OFF_CORR);
            for (int j = 0; j < PACK_GROUP; j++) {
                int t = g * PACK_GROUP + j, pair = j >> 1, half = j & 1;
                int8_t *q = (int8_t *)pb + 64 * pair + 32 * half;
                float dv = 0, sv = 0;
                if (t < tokens) {
                    int sum;
                    float d = quantize_block(x + (size_t)t * ldx + 32 * b, q, &sum);
                    dv = _cvtsh_ss(f32_to_f16(d));
                    sv = _cvtsh_ss(f32_to_f16(d * (float)sum));
                } else {
                    memset(q, 0, 32);
                }
                s[j] = withMins ? sv : 0;
                for (int l = 0; l < 8; l++) {
                    dd[16 * pair + 8 * half + l] = dv;
                    int c = q[4 * l] + q[4 * l + 1] + q[4 * l + 2] + q[4 * l + 3];
                    corr[16 * pair + 8 * half + l] = -128 * c;
                }
            }
        }
    }
}

// MARK: - integer lane sums of one block

// Eight lanes of four u8*s8 products each (AVX2).
INLINE __m256i lanes_avx2(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

INLINE __m256i q4_expand(const uint8_t *qs) {
    __m128i x = _mm_loadu_si128((const __m128i *)qs);
    __m256i v = _mm256_set_m128i(_mm_srli_epi16(x, 4), x);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

// MARK: - single dot products

float tern_dot_q4_1_q8_1_avx2(const void *w, const void *a, int blocks) {
    const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)a;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int b = 0; b < blocks; b++, wb += 20, ab += 36) {
        __m256i l = lanes_avx2(q4_expand(wb + 4), _mm256_loadu_si256((const __m256i *)(ab + 4)));
        float d = f16_to_f32(wb) * f16_to_f32(ab);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(l), acc);
        mins = __builtin_fmaf(f16_to_f32(wb + 2), f16_to_f32(ab + 2), mins);
    }
    return hsum8(acc) + mins;
}

VNNI float tern_dot_q4_1_q8_1_vnni(const void *w, const void *a, int blocks) {
    const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)a;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int b = 0; b < blocks; b++, wb += 20, ab += 36) {
        __m256i l = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q4_expand(wb + 4),
                                        _mm256_loadu_si256((const __m256i *)(ab + 4)));
        float d = f16_to_f32(wb) * f16_to_f32(ab);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(l), acc);
        mins = __builtin_fmaf(f16_to_f32(wb + 2), f16_to_f32(ab + 2), mins);
    }
    return hsum8(acc) + mins;
}

INLINE __m256i q8_lanes_avx2(__m256i w, __m256i a) {
    return lanes_avx2(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
}

float tern_dot_q8_0_q8_0_avx2(const void *w, const void *a, int blocks) {
    const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)a;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < blocks; b++, wb += 34, ab += 34) {
        __m256i l = q8_lanes_avx2(_mm256_loadu_si256((const __m256i *)(wb + 2)),
                                  _mm256_loadu_si256((const __m256i *)(ab + 2)));
        float d = f16_to_f32(wb) * f16_to_f32(ab);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(l), acc);
    }
    return hsum8(acc);
}

// -128 * (sum of each four activations): the correction that makes (w ^ 0x80) * a exact.
VNNI INLINE __m256i q8_correction(__m256i a) {
    return _mm256_sub_epi32(_mm256_setzero_si256(),
                            _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8((char)0x80), a));
}

VNNI float tern_dot_q8_0_q8_0_vnni(const void *w, const void *a, int blocks) {
    const uint8_t *wb = (const uint8_t *)w, *ab = (const uint8_t *)a;
    __m256 acc = _mm256_setzero_ps();
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (int b = 0; b < blocks; b++, wb += 34, ab += 34) {
        __m256i av = _mm256_loadu_si256((const __m256i *)(ab + 2));
        __m256i wv = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(wb + 2)), flip);
        __m256i l = _mm256_dpbusd_epi32(q8_correction(av), wv, av);
        float d = f16_to_f32(wb) * f16_to_f32(ab);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(l), acc);
    }
    return hsum8(acc);
}

// MARK: - row-group kernels (several rows share each activation block)

// Software prefetch for the row-group kernels: block step b of the current group touches `lines`
// cache lines of the group two groups ahead (the hardware prefetcher alone left decode far below
// memory bandwidth). Prefetches never fault, so running past the matrix is harmless.
INLINE void prefetch_ahead(const uint8_t *w, size_t rowBytes, int b, int lines) {
    const char *p = (const char *)w + 8 * rowBytes + (size_t)b * 64 * lines;
    for (int i = 0; i < lines; i++) _mm_prefetch(p + 64 * i, _MM_HINT_T0);
}

#define GEMV_Q4_1(NAME, ATTR, LANES)                                                               \
    ATTR INLINE void NAME(const uint8_t *w, size_t rowBytes, int R, const uint8_t *act, int blocks, \
                          float *y) {                                                              \
        __m256 acc[4];                                                                             \
        float mins[4];                                                                             \
        for (int r = 0; r < 4; r++) { acc[r] = _mm256_setzero_ps(); mins[r] = 0; }                  \
        for (int b = 0; b < blocks; b++) {                                                         \
            const uint8_t *ab = act + 36 * b;                                                      \
            __m256i av = _mm256_loadu_si256((const __m256i *)(ab + 4));                            \
            float da = f16_to_f32(ab), sa = f16_to_f32(ab + 2);                                    \
            prefetch_ahead(w, rowBytes, b, 2);                                                     \
            for (int r = 0; r < R; r++) {                                                          \
                const uint8_t *wb = w + r * rowBytes + 20 * b;                                     \
                __m256i l = LANES(q4_expand(wb + 4), av);                                          \
                __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(load_u32(wb)));                     \
                float d = _mm_cvtss_f32(dm) * da;                                                  \
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(l), acc[r]);        \
                mins[r] = __builtin_fmaf(_mm_cvtss_f32(_mm_movehdup_ps(dm)), sa, mins[r]);         \
            }                                                                                      \
        }                                                                                          \
        for (int r = 0; r < R; r++) y[r] = hsum8(acc[r]) + mins[r];                                \
    }

#define GEMV_Q8_0(NAME, ATTR, PREP, LANES)                                                         \
    ATTR INLINE void NAME(const uint8_t *w, size_t rowBytes, int R, const uint8_t *act, int blocks, \
                          float *y) {                                                              \
        __m256 acc[4];                                                                             \
        for (int r = 0; r < 4; r++) acc[r] = _mm256_setzero_ps();                                  \
        for (int b = 0; b < blocks; b++) {                                                         \
            const uint8_t *ab = act + 34 * b;                                                      \
            __m256i av = _mm256_loadu_si256((const __m256i *)(ab + 2));                            \
            PREP;                                                                                  \
            prefetch_ahead(w, rowBytes, b, 3);                                                     \
            float da = f16_to_f32(ab);                                                             \
            for (int r = 0; r < R; r++) {                                                          \
                const uint8_t *wb = w + r * rowBytes + 34 * b;                                     \
                __m256i wv = _mm256_loadu_si256((const __m256i *)(wb + 2));                        \
                __m256i l = LANES;                                                                 \
                float d = f16_to_f32(wb) * da;                                                     \
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(l), acc[r]);        \
            }                                                                                      \
        }                                                                                          \
        for (int r = 0; r < R; r++) y[r] = hsum8(acc[r]);                                          \
    }

#define VNNI_LANES(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), (u), (s))

GEMV_Q4_1(rows_q4_1_avx2, , lanes_avx2)
GEMV_Q4_1(rows_q4_1_vnni, VNNI, VNNI_LANES)
GEMV_Q8_0(rows_q8_0_avx2, , (void)0, q8_lanes_avx2(wv, av))
GEMV_Q8_0(rows_q8_0_vnni, VNNI, __m256i corr = q8_correction(av),
          _mm256_dpbusd_epi32(corr, _mm256_xor_si256(wv, _mm256_set1_epi8((char)0x80)), av))

// Rows in groups of four (tokens inside, so a group's weights stay in L1 across tokens).
#define GEMV_DRIVER(NAME, ATTR, KERNEL)                                                            \
    ATTR static void NAME(const uint8_t *w, size_t rowBytes, int r0, int r1, const uint8_t *act,   \
                          size_t actStride, int tokens, int blocks, float *y, size_t ldy) {        \
        float out[4];                                                                              \
        for (int r = r0; r < r1; r += 4) {                                                         \
            int R = r1 - r < 4 ? r1 - r : 4;                                                       \
            const uint8_t *wr = w + (size_t)r * rowBytes;                                          \
            if (R < 4) {                                                                           \
                for (int t = 0; t < tokens; t++) {                                                 \
                    KERNEL(wr, rowBytes, R, act + t * actStride, blocks, out);                     \
                    for (int i = 0; i < R; i++) y[t * ldy + r + i] = out[i];                       \
                }                                                                                  \
            } else {                                                                               \
                for (int t = 0; t < tokens; t++) {                                                 \
                    KERNEL(wr, rowBytes, 4, act + t * actStride, blocks, out);                     \
                    for (int i = 0; i < 4; i++) y[t * ldy + r + i] = out[i];                       \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

GEMV_DRIVER(gemv_q4_1_avx2, , rows_q4_1_avx2)
GEMV_DRIVER(gemv_q4_1_vnni, VNNI, rows_q4_1_vnni)
GEMV_DRIVER(gemv_q8_0_avx2, , rows_q8_0_avx2)
GEMV_DRIVER(gemv_q8_0_vnni, VNNI, rows_q8_0_vnni)

void tern_gemv_q4_1(const void *w, size_t rowBytes, int rowBegin, int rowEnd, const void *act,
                    size_t actStride, int tokens, int blocks, float *y, size_t ldy, int level) {
    (level >= 2 ? gemv_q4_1_vnni : gemv_q4_1_avx2)((const uint8_t *)w, rowBytes, rowBegin, rowEnd,
                                                   (const uint8_t *)act, actStride, tokens, blocks, y, ldy);
}

void tern_gemv_q8_0(const void *w, size_t rowBytes, int rowBegin, int rowEnd, const void *act,
                    size_t actStride, int tokens, int blocks, float *y, size_t ldy, int level) {
    (level >= 2 ? gemv_q8_0_vnni : gemv_q8_0_avx2)((const uint8_t *)w, rowBytes, rowBegin, rowEnd,
                                                   (const uint8_t *)act, actStride, tokens, blocks, y, ldy);
}

// MARK: - tiled GEMM: 4 rows x 8 tokens, two tokens per 512-bit register

// Writes y for a finished tile: lanes 0-7 of acc[r][p] belong to token 2p, lanes 8-15 to 2p+1.
VNNI INLINE void store_tile(__m512 acc[4][4], const float mins[4][8], int R, int tvalid, float *y,
                            size_t ldy) {
    float lanes[16];
    for (int r = 0; r < R; r++) {
        for (int p = 0; p < 4; p++) {
            _mm512_storeu_ps(lanes, acc[r][p]);
            for (int h = 0; h < 2; h++) {
                int t = 2 * p + h;
                if (t < tvalid) y[t * ldy + r] = hsum8_scalar(lanes + 8 * h) + mins[r][t];
            }
        }
    }
}

VNNI INLINE void tile_q4_1(const uint8_t *w, size_t rowBytes, const int R, const uint8_t *pg,
                           int blocks, float *y, size_t ldy, int tvalid) {
    __m512 acc[4][4];
    __m256 mins[4];
    for (int r = 0; r < 4; r++) {
        mins[r] = _mm256_setzero_ps();
        for (int p = 0; p < 4; p++) acc[r][p] = _mm512_setzero_ps();
    }
    // 16-bit shift counts: 0 in 128-bit lanes 0 and 2 (low nibbles), 4 in lanes 1 and 3.
    const long long k4 = 0x0004000400040004LL;
    const __m512i shifts = _mm512_set_epi64(k4, k4, 0, 0, k4, k4, 0, 0);
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *pb = pg + (size_t)b * PACK_BLOCK;
        __m512i a[4];
        __m512 dd[4];
        for (int p = 0; p < 4; p++) {
            a[p] = _mm512_load_si512((const void *)(pb + 64 * p));
            dd[p] = _mm512_load_ps((const float *)(pb + OFF_DD) + 16 * p);
        }
        const __m256 s = _mm256_load_ps((const float *)(pb + OFF_S));
        for (int r = 0; r < R; r++) {
            const uint8_t *wb = w + r * rowBytes + 20 * b;
            __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(wb + 4)));
            v = _mm512_and_si512(_mm512_srlv_epi16(v, shifts), nibble);
            __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(load_u32(wb)));
            __m512 dw = _mm512_broadcastss_ps(dm);
            for (int p = 0; p < 4; p++) {
                __m512i l = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v, a[p]);
                acc[r][p] = _mm512_fmadd_ps(_mm512_mul_ps(dw, dd[p]), _mm512_cvtepi32_ps(l), acc[r][p]);
            }
            mins[r] = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dm)), s, mins[r]);
        }
    }
    float m[4][8];
    for (int r = 0; r < R; r++) _mm256_storeu_ps(m[r], mins[r]);
    store_tile(acc, (const float(*)[8])m, R, tvalid, y, ldy);
}

VNNI INLINE void tile_q8_0(const uint8_t *w, size_t rowBytes, const int R, const uint8_t *pg,
                           int blocks, float *y, size_t ldy, int tvalid) {
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int p = 0; p < 4; p++) acc[r][p] = _mm512_setzero_ps();
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *pb = pg + (size_t)b * PACK_BLOCK;
        __m512i a[4], c[4];
        __m512 dd[4];
        for (int p = 0; p < 4; p++) {
            a[p] = _mm512_load_si512((const void *)(pb + 64 * p));
            c[p] = _mm512_load_si512((const void *)(pb + OFF_CORR + 64 * p));
            dd[p] = _mm512_load_ps((const float *)(pb + OFF_DD) + 16 * p);
        }
        for (int r = 0; r < R; r++) {
            const uint8_t *wb = w + r * rowBytes + 34 * b;
            __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(wb + 2)));
            v = _mm512_xor_si512(v, flip);
            __m512 dw = _mm512_set1_ps(f16_to_f32(wb));
            for (int p = 0; p < 4; p++) {
                __m512i l = _mm512_dpbusd_epi32(c[p], v, a[p]);
                acc[r][p] = _mm512_fmadd_ps(_mm512_mul_ps(dw, dd[p]), _mm512_cvtepi32_ps(l), acc[r][p]);
            }
        }
    }
    static const float zero[4][8];
    store_tile(acc, zero, R, tvalid, y, ldy);
}

// Token groups are processed in chunks small enough that their packed activations stay in L2
// while every row tile of the thread's share passes over them.
enum { GROUPS_PER_CHUNK = 8 };

#define GEMM_DRIVER(NAME, TILE)                                                                    \
    void NAME(const void *w, size_t rowBytes, int rowBegin, int rowEnd, const void *packed,        \
              int tokens, int blocks, float *y, size_t ldy) {                                      \
        const uint8_t *wp = (const uint8_t *)w, *pk = (const uint8_t *)packed;                     \
        int groups = (tokens + PACK_GROUP - 1) / PACK_GROUP;                                       \
        for (int g0 = 0; g0 < groups; g0 += GROUPS_PER_CHUNK) {                                    \
            int g1 = g0 + GROUPS_PER_CHUNK < groups ? g0 + GROUPS_PER_CHUNK : groups;              \
            for (int r = rowBegin; r < rowEnd; r += 4) {                                           \
                int R = rowEnd - r < 4 ? rowEnd - r : 4;                                           \
                const uint8_t *wr = wp + (size_t)r * rowBytes;                                     \
                for (int g = g0; g < g1; g++) {                                                    \
                    const uint8_t *pg = pk + (size_t)g * blocks * PACK_BLOCK;                      \
                    int tv = tokens - g * PACK_GROUP;                                              \
                    if (tv > PACK_GROUP) tv = PACK_GROUP;                                          \
                    float *yt = y + (size_t)g * PACK_GROUP * ldy + r;                              \
                    switch (R) {                                                                   \
                    case 4: TILE(wr, rowBytes, 4, pg, blocks, yt, ldy, tv); break;                 \
                    case 3: TILE(wr, rowBytes, 3, pg, blocks, yt, ldy, tv); break;                 \
                    case 2: TILE(wr, rowBytes, 2, pg, blocks, yt, ldy, tv); break;                 \
                    default: TILE(wr, rowBytes, 1, pg, blocks, yt, ldy, tv); break;                \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

VNNI GEMM_DRIVER(tern_gemm_q4_1_packed, tile_q4_1)
VNNI GEMM_DRIVER(tern_gemm_q8_0_packed, tile_q8_0)

#else  // not x86-64: the Swift kernels are used.

int tern_simd_level(void) { return 0; }
size_t tern_packed_bytes(int tokens, int blocks) { (void)tokens; (void)blocks; return 0; }
void tern_quantize_q8_0(const float *x, void *dst, int count) { (void)x; (void)dst; (void)count; }
void tern_quantize_q8_1(const float *x, void *dst, int count) { (void)x; (void)dst; (void)count; }
void tern_pack_activations(const float *x, int ldx, int tokens, int blocks, void *packed,
                           int groupBegin, int groupEnd, int withMins) {
    (void)x; (void)ldx; (void)tokens; (void)blocks; (void)packed; (void)groupBegin; (void)groupEnd; (void)withMins;
}
float tern_dot_q4_1_q8_1_avx2(const void *w, const void *a, int blocks) { (void)w; (void)a; (void)blocks; return 0; }
float tern_dot_q4_1_q8_1_vnni(const void *w, const void *a, int blocks) { (void)w; (void)a; (void)blocks; return 0; }
float tern_dot_q8_0_q8_0_avx2(const void *w, const void *a, int blocks) { (void)w; (void)a; (void)blocks; return 0; }
float tern_dot_q8_0_q8_0_vnni(const void *w, const void *a, int blocks) { (void)w; (void)a; (void)blocks; return 0; }
void tern_gemv_q4_1(const void *w, size_t rowBytes, int rowBegin, int rowEnd, const void *act,
                    size_t actStride, int tokens, int blocks, float *y, size_t ldy, int level) {
    (void)w; (void)rowBytes; (void)rowBegin; (void)rowEnd; (void)act; (void)actStride; (void)tokens; (void)blocks; (void)y; (void)ldy; (void)level;
}
void tern_gemv_q8_0(const void *w, size_t rowBytes, int rowBegin, int rowEnd, const void *act,
                    size_t actStride, int tokens, int blocks, float *y, size_t ldy, int level) {
    (void)w; (void)rowBytes; (void)rowBegin; (void)rowEnd; (void)act; (void)actStride; (void)tokens; (void)blocks; (void)y; (void)ldy; (void)level;
}
void tern_gemm_q4_1_packed(const void *w, size_t rowBytes, int rowBegin, int rowEnd,
                           const void *packed, int tokens, int blocks, float *y, size_t ldy) {
    (void)w; (void)rowBytes; (void)rowBegin; (void)rowEnd; (void)packed; (void)tokens; (void)blocks; (void)y; (void)ldy;
}
void tern_gemm_q8_0_packed(const void *w, size_t rowBytes, int rowBegin, int rowEnd,
                           const void *packed, int tokens, int blocks, float *y, size_t ldy) {
    (void)w; (void)rowBytes; (void)rowBegin; (void)rowEnd; (void)packed; (void)tokens; (void)blocks; (void)y; (void)ldy;
}
#endif
