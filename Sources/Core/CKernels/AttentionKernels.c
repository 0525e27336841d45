// SPDX-License-Identifier: Apache-2.0
//
// Attention over a paged half-precision KV cache, one query head at a time (AVX2 + F16C).
// The Swift reference is `Attention.attendPagedSwift` in Sources/Kernels/PagedAttention.swift;
// results are bit-identical to it (a parity test checks every order and layout). Swift's
// `SIMD16<Float16>` to `SIMD16<Float>` conversion compiles to an out-of-line call, which made the
// Swift kernel the second-largest cost of a long prefill; here it is one `vcvtph2ps` per 8 lanes.
//
// A 16-lane f32 vector of the Swift code is two __m256 here (lo = lanes 0-7, hi = lanes 8-15);
// every operation is lane-wise, so the arithmetic is the same. FMA is explicit (no contraction).
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

typedef struct { __m256 lo, hi; } v16;

INLINE v16 v16_zero(void) { v16 r = { _mm256_setzero_ps(), _mm256_setzero_ps() }; return r; }
INLINE v16 v16_load_f16(const uint16_t *p) {
    v16 r = { _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)),
              _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 8))) };
    return r;
}
INLINE v16 v16_load(const float *p) { v16 r = { _mm256_loadu_ps(p), _mm256_loadu_ps(p + 8) }; return r; }
INLINE void v16_store(float *p, v16 v) { _mm256_storeu_ps(p, v.lo); _mm256_storeu_ps(p + 8, v.hi); }
INLINE v16 v16_add(v16 a, v16 b) { v16 r = { _mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi) }; return r; }
INLINE v16 v16_fma(v16 a, v16 b, v16 c) {
    v16 r = { _mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi) };
    return r;
}

// QuantizedDot.reduce16: t3 = hi8 + lo8; t6 = t3[4..<8] + t3[0..<4]; (t6[0] + t6[2]) + (t6[1] + t6[3]).
INLINE float reduce16(v16 v) {
    __m256 t3 = _mm256_add_ps(v.hi, v.lo);
    __m128 t6 = _mm_add_ps(_mm256_extractf128_ps(t3, 1), _mm256_castps256_ps128(t3));
    float t[4];
    _mm_storeu_ps(t, t6);
    return (t[0] + t[2]) + (t[1] + t[3]);
}

INLINE const uint16_t *kv_row(const uint16_t *base, const int32_t *pageTable, int64_t pageSize,
                              int64_t pageStride, int64_t rowStride, int64_t j) {
    return base + (int64_t)pageTable[j / pageSize] * pageStride + (j % pageSize) * rowStride;
}

INLINE void round_query(const float *q, float *qr, int headDim) {
    int i = 0;
    for (; i + 8 <= headDim; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(q + i), _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_ps(qr + i, _mm256_cvtph_ps(h));
    }
    for (; i < headDim; i++) qr[i] = _cvtsh_ss(_cvtss_sh(q[i], _MM_FROUND_TO_NEAREST_INT));
}

void tern_attn_scores_f16(const float *q, const uint16_t *kbase, const int32_t *pageTable,
                          int64_t pageSize, int64_t pageStride, int64_t rowStride, int64_t headOffset,
                          int length, int headDim, int order, float *scores) {
    // The query rounded through f16, as ggml converts it before the f16 dot products.
    float qr[TERN_ATTN_MAX_HEAD_DIM];
    round_query(q, qr, headDim);
    if (order == 0) {
        // ggml vec_dot_f16 order: four accumulators over 64-element steps, tail in double.
        const int steps = headDim & ~63;
        for (int64_t j = 0; j < length; j++) {
            const uint16_t *k = kv_row(kbase, pageTable, pageSize, pageStride, rowStride, j) + headOffset;
            v16 s0 = v16_zero(), s1 = v16_zero(), s2 = v16_zero(), s3 = v16_zero();
            int i = 0;
            for (; i < steps; i += 64) {
                s0 = v16_fma(v16_load(qr + i), v16_load_f16(k + i), s0);
                s1 = v16_fma(v16_load(qr + i + 16), v16_load_f16(k + i + 16), s1);
                s2 = v16_fma(v16_load(qr + i + 32), v16_load_f16(k + i + 32), s2);
                s3 = v16_fma(v16_load(qr + i + 48), v16_load_f16(k + i + 48), s3);
            }
            double sum = (double)reduce16(v16_add(v16_add(s0, s2), v16_add(s1, s3)));
            for (; i < headDim; i++) sum += (double)(qr[i] * _cvtsh_ss(k[i]));
            scores[j] = (float)sum;
        }
    } else {
        // tinyBLAS order: one 16-lane accumulator over 16-element steps.
        for (int64_t j = 0; j < length; j++) {
            const uint16_t *k = kv_row(kbase, pageTable, pageSize, pageStride, rowStride, j) + headOffset;
            v16 acc = v16_zero();
            for (int i = 0; i < headDim; i += 16) acc = v16_fma(v16_load(qr + i), v16_load_f16(k + i), acc);
            scores[j] = reduce16(acc);
        }
    }
}

void tern_attn_values_f16(const float *probs, const uint16_t *vbase, const int32_t *pageTable,
                          int64_t pageSize, int64_t pageStride, int64_t rowStride, int64_t headOffset,
                          int length, int headDim, int order, float *lanesBuf, float *out) {
    const int laneCount = order == 0 ? 64 : 16;
    const int lanes = length < laneCount ? length : laneCount;
    const int chunks = headDim / 16;
    // Lane l accumulates positions j ≡ l (mod laneCount) in ascending order, as the Swift kernel
    // does through its `[laneCount, headDim]` accumulator array; here each lane's running sum
    // stays in registers 64 dimensions at a time.
    for (int l = 0; l < lanes; l++) {
        float *acc = lanesBuf + (int64_t)l * headDim;
        for (int c0 = 0; c0 < chunks; c0 += 4) {
            const int cn = chunks - c0 < 4 ? chunks - c0 : 4;
            v16 a[4] = { v16_zero(), v16_zero(), v16_zero(), v16_zero() };
            for (int64_t j = l; j < length; j += laneCount) {
                // p rounded through f16, as ggml stores the probabilities.
                const float pj = _cvtsh_ss(_cvtss_sh(probs[j], _MM_FROUND_TO_NEAREST_INT));
                const v16 p = { _mm256_set1_ps(pj), _mm256_set1_ps(pj) };
                const uint16_t *v = kv_row(vbase, pageTable, pageSize, pageStride, rowStride, j) + headOffset + c0 * 16;
                for (int c = 0; c < cn; c++) a[c] = v16_fma(v16_load_f16(v + 16 * c), p, a[c]);
            }
            for (int c = 0; c < cn; c++) v16_store(acc + (c0 + c) * 16, a[c]);
        }
    }
    const v16 zero = v16_zero();
    for (int c = 0; c < chunks; c++) {
#define LANE(l) ((l) < lanes ? v16_load(lanesBuf + (int64_t)(l) * headDim + 16 * c) : zero)
#define X(l) (order == 0 ? v16_add(v16_add(LANE(l), LANE(32 + (l))), v16_add(LANE(16 + (l)), LANE(48 + (l)))) : LANE(l))
        v16 t3[8];
        for (int k = 0; k < 8; k++) t3[k] = v16_add(X(8 + k), X(k));
        v16 t60 = v16_add(t3[4], t3[0]), t61 = v16_add(t3[5], t3[1]);
        v16 t62 = v16_add(t3[6], t3[2]), t63 = v16_add(t3[7], t3[3]);
        v16_store(out + 16 * c, v16_add(v16_add(t60, t62), v16_add(t61, t63)));
#undef X
#undef LANE
    }
}

#else

INLINE void round_query(const float *q, float *qr, int headDim) { (void)q; (void)qr; (void)headDim; }
void tern_attn_scores_f16(const float *qr, const uint16_t *kbase, const int32_t *pageTable,
                          int64_t pageSize, int64_t pageStride, int64_t rowStride, int64_t headOffset,
                          int length, int headDim, int order, float *scores) {
    (void)q; (void)kbase; (void)pageTable; (void)pageSize; (void)pageStride; (void)rowStride;
    (void)headOffset; (void)length; (void)headDim; (void)order; (void)scores;
}
void tern_attn_values_f16(const float *probs, const uint16_t *vbase, const int32_t *pageTable,
                          int64_t pageSize, int64_t pageStride, int64_t rowStride, int64_t headOffset,
                          int length, int headDim, int order, float *lanesBuf, float *out) {
    (void)probs; (void)vbase; (void)pageTable; (void)pageSize; (void)pageStride; (void)rowStride;
    (void)headOffset; (void)length; (void)headDim; (void)order; (void)lanesBuf; (void)out;
}

#endif
