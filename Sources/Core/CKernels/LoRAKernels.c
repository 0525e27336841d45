// SPDX-License-Identifier: Apache-2.0
//
// LoRA shrink/expand over adapter rows stored as f16 in KV pool pages (S-LoRA's unified paging:
// each row is contiguous inside one page block, rows are found through a pointer table, i.e. a
// gather). Swift reference: `LoRAKernels.shrinkPagedReference` / `expandPagedReference`; the parity
// test allows float reassociation (the C loops accumulate in 8 lanes).
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void tern_lora_shrink_f16(const float *x, size_t ldx, int tokens, const uint16_t *const *aRows, int rank, int cols,
                          float *u) {
    for (int t = 0; t < tokens; t++) {
        const float *xt = x + (size_t)t * ldx;
        for (int r = 0; r < rank; r++) {
            const uint16_t *a = aRows[r];
            __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
            int c = 0;
            for (; c + 16 <= cols; c += 16) {
                acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + c))), _mm256_loadu_ps(xt + c), acc0);
                acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + c + 8))), _mm256_loadu_ps(xt + c + 8), acc1);
            }
            float s = hsum256(_mm256_add_ps(acc0, acc1));
            for (; c < cols; c++) s += _cvtsh_ss(a[c]) * xt[c];
            u[(size_t)t * rank + r] = s;
        }
    }
}

void tern_lora_expand_f16(const float *u, int tokens, const uint16_t *const *bRows, int rank, int rows, float scale,
                          float *y, size_t ldy) {
    for (int t = 0; t < tokens; t++) {
        float *yt = y + (size_t)t * ldy;
        for (int r = 0; r < rank; r++) {
            const uint16_t *b = bRows[r];
            const float c = scale * u[(size_t)t * rank + r];
            const __m256 cv = _mm256_set1_ps(c);
            int o = 0;
            for (; o + 8 <= rows; o += 8) {
                __m256 bv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + o)));
                _mm256_storeu_ps(yt + o, _mm256_fmadd_ps(cv, bv, _mm256_loadu_ps(yt + o)));
            }
            for (; o < rows; o++) yt[o] += c * _cvtsh_ss(b[o]);
        }
    }
}

#else

void tern_lora_shrink_f16(const float *x, size_t ldx, int tokens, const uint16_t *const *aRows, int rank, int cols,
                          float *u) {
    (void)x; (void)ldx; (void)tokens; (void)aRows; (void)rank; (void)cols; (void)u;
}
void tern_lora_expand_f16(const float *u, int tokens, const uint16_t *const *bRows, int rank, int rows, float scale,
                          float *y, size_t ldy) {
    (void)u; (void)tokens; (void)bRows; (void)rank; (void)rows; (void)scale; (void)y; (void)ldy;
}

#endif
