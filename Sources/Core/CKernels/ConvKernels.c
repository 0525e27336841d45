// SPDX-License-Identifier: Apache-2.0
//
// Convolution GEMM kernels for training (x86-64 AVX-512F, chosen at run time; callers fall back to
// im2col + OpenBLAS elsewhere). The im2col columns of one image are written straight into 32-column
// panels, `panels[ceil(P/32)][K][32]` (tail lanes zero), the layout the two kernels below stream:
// no separate packing pass over the columns, which OpenBLAS needs for every per-image product and
// which cost as much as the multiply itself on these small-M shapes (ResNet-8 profile).
// Swift references: ConvolutionKernels.im2col and StridedGEMM.reference (parity tests in
// Tests/TensorsTests). Compiled with -ffp-contract=off: every fused multiply-add is written out.

#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

// Bits lo..<hi of a 16-lane mask (empty when hi ≤ lo), after clamping to [0, 16].
INLINE __mmask16 lane_range(int lo, int hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    return hi > lo ? (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1)) : 0;
}

AVX512 void tern_im2col_panels(const float *x, int channels, int height, int width, int kernelH, int kernelW,
                               int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
                               float *panels, int streaming) {
    const int oh = (height + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1;
    const int ow = (width + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1;
    const long p = (long)oh * ow, k = (long)channels * kernelH * kernelW;
    const long panelCount = (p + 31) / 32, panelSize = k * 32;
    // Tail lanes of the last panel stay zero so the kernels may read whole panels.
    if (p % 32) {
        float *last = panels + (panelCount - 1) * panelSize;
        for (long r = 0; r < k; r++) memset(last + r * 32 + p % 32, 0, sizeof(float) * (size_t)(32 - p % 32));
    }
    for (int c = 0; c < channels; c++) {
        const float *plane = x + (long)c * height * width;
        for (int ki = 0; ki < kernelH; ki++) {
            for (int kj = 0; kj < kernelW; kj++) {
                const long row = ((long)c * kernelH + ki) * kernelW + kj;
                float *dst = panels + row * 32;  // column t lives at dst[(t / 32) * panelSize + t % 32]
                const int x0 = kj * dilationW - padW;
                if ((strideW == 1 || strideW == 2) && ow % 16 == 0 && ow <= 256) {
                    // Rows of whole 16-lane chunks (32×32, 16×16, 8×8·2 outputs): masks per chunk
                    // computed once for every output row; 64-byte aligned full stores, streamed
                    // past the caches when the panels are kept for the backward pass.
                    // Stride 2 loads 32 inputs and keeps the even lanes.
                    __mmask16 m0[16], m1[16];
                    for (int q = 0; q < ow / 16; q++) {
                        const int first = x0 + 16 * q * strideW;  // input column of lane 0
                        m0[q] = lane_range(-first, width - first);
                        m1[q] = lane_range(-(first + 16), width - (first + 16));
                    }
                    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
                    for (int oy = 0; oy < oh; oy++) {
                        const int iy = oy * strideH - padH + ki * dilationH;
                        const long t0 = (long)oy * ow;
                        const int inside = iy >= 0 && iy < height;
                        const float *src = plane + (long)iy * width + x0;
                        for (int q = 0; q < ow / 16; q++) {
                            const long t = t0 + 16 * q;
                            float *d = dst + (t / 32) * panelSize + t % 32;
                            __m512 v = _mm512_setzero_ps();
                            if (inside && strideW == 1) {
                                v = _mm512_maskz_loadu_ps(m0[q], src + 16 * q);
                            } else if (inside) {
                                const __m512 a = _mm512_maskz_loadu_ps(m0[q], src + 32 * q);
                                const __m512 b = _mm512_maskz_loadu_ps(m1[q], src + 32 * q + 16);
                                v = _mm512_permutex2var_ps(a, even, b);
                            }
                            if (streaming) _mm512_stream_ps(d, v); else _mm512_store_ps(d, v);
                        }
                    }
                    continue;
                }
                long t = 0;
                for (int oy = 0; oy < oh; oy++) {
                    const int iy = oy * strideH - padH + ki * dilationH;
                    const int inside = iy >= 0 && iy < height;
                    const float *src = plane + (long)iy * width;
                    if (strideW == 1) {
                        // Chunks of ≤ 16 outputs that stay inside one panel: a masked load of the
                        // source run (lanes outside the row or the image read nothing and are zero).
                        for (int ox = 0; ox < ow;) {
                            const int lane = (int)(t % 32);
                            int n = 16 - lane % 16;
                            if (n > ow - ox) n = ow - ox;
                            __mmask16 valid = 0;
                            if (inside) {
                                // Lane q holds input column x0 + ox + q; valid when inside [0, width).
                                int lo = -(x0 + ox), hi = width - (x0 + ox);
                                if (lo < 0) lo = 0;
                                if (hi > n) hi = n;
                                if (hi > lo) valid = (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
                            }
                            const __m512 v = valid ? _mm512_maskz_loadu_ps(valid, src + x0 + ox) : _mm512_setzero_ps();
                            _mm512_mask_storeu_ps(dst + (t / 32) * panelSize + lane, (__mmask16)((1u << n) - 1), v);
                            ox += n;
                            t += n;
                        }
                    } else {
                        for (int ox = 0; ox < ow; ox++, t++) {
                            const int ix = ox * strideW + x0;
                            dst[(t / 32) * panelSize + t % 32] = (inside && ix >= 0 && ix < width) ? src[ix] : 0.0f;
                        }
                    }
                }
            }
        }
    }
    if (streaming) _mm_sfence();
}

// y[o0 + i][j·32 + 0..<32] (+)= Σ_r wt[r·ldw + o0 + i] · panel[r][0..<32], i < R.
INLINE AVX512 void forward_tile(int R, int k, const float *wt, int ldw, int o0, const float *panel, float *c,
                                long ldc, int columns, int accumulate) {
    __m512 acc[8][2];
    for (int i = 0; i < R; i++) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = _mm512_setzero_ps(); }
    const float *w = wt + o0;
    for (int r = 0; r < k; r++, w += ldw, panel += 32) {
        const __m512 b0 = _mm512_loadu_ps(panel), b1 = _mm512_loadu_ps(panel + 16);
        for (int i = 0; i < R; i++) {
            const __m512 a = _mm512_set1_ps(w[i]);
            acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
        }
    }
    const __mmask16 m0 = columns >= 16 ? 0xFFFF : (__mmask16)((1u << columns) - 1);
    const __mmask16 m1 = columns >= 32 ? 0xFFFF : (columns <= 16 ? 0 : (__mmask16)((1u << (columns - 16)) - 1));
    for (int i = 0; i < R; i++) {
        float *dst = c + (long)(o0 + i) * ldc;
        __m512 v0 = acc[i][0], v1 = acc[i][1];
        if (accumulate) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, dst));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, dst + 16));
        }
        _mm512_mask_storeu_ps(dst, m0, v0);
        _mm512_mask_storeu_ps(dst + 16, m1, v1);
    }
}

AVX512 void tern_conv_forward_panels(int m, int k, int p, const float *wt, const float *panels, float *c, long ldc,
                                     int accumulate) {
    const long panelSize = (long)k * 32;
    for (int j = 0; j * 32 < p; j++) {
        const float *panel = panels + j * panelSize;
        float *cj = c + (long)j * 32;
        const int columns = p - j * 32 < 32 ? p - j * 32 : 32;
        int o = 0;
        for (; o + 8 <= m; o += 8) forward_tile(8, k, wt, m, o, panel, cj, ldc, columns, accumulate);
        for (; o + 4 <= m; o += 4) forward_tile(4, k, wt, m, o, panel, cj, ldc, columns, accumulate);
        for (; o < m; o++) forward_tile(1, k, wt, m, o, panel, cj, ldc, columns, accumulate);
    }
}

// gwt[r0 + i][o-block] += Σ_t panel[r0 + i][t] · gyt[t][o-block] over the `count` columns of one
// panel, i < R; the o-block is `vectors` 16-lane vectors (mask `tail` on the last).
INLINE AVX512 void weight_tile(int R, int vectors, __mmask16 tail, int count, const float *panel, int r0,
                               const float *gyt, int ldg, float *gwt, int ldw) {
    __m512 acc[12][4];
    for (int i = 0; i < R; i++)
        for (int v = 0; v < vectors; v++) {
            const __mmask16 mv = v == vectors - 1 ? tail : 0xFFFF;
            acc[i][v] = _mm512_maskz_loadu_ps(mv, gwt + (long)(r0 + i) * ldw + v * 16);
        }
    const float *b = panel + (long)r0 * 32;
    for (int t = 0; t < count; t++, b++, gyt += ldg) {
        __m512 gv[4];
        for (int v = 0; v < vectors; v++) gv[v] = _mm512_loadu_ps(gyt + v * 16);
        for (int i = 0; i < R; i++) {
            const __m512 a = _mm512_set1_ps(b[i * 32]);
            for (int v = 0; v < vectors; v++) acc[i][v] = _mm512_fmadd_ps(a, gv[v], acc[i][v]);
        }
    }
    for (int i = 0; i < R; i++)
        for (int v = 0; v < vectors; v++) {
            const __mmask16 mv = v == vectors - 1 ? tail : 0xFFFF;
            _mm512_mask_storeu_ps(gwt + (long)(r0 + i) * ldw + v * 16, mv, acc[i][v]);
        }
}

AVX512 void tern_conv_weight_grad_panels(int m, int k, int p, const float *gy, long ldgy, const float *panels,
                                         float *gyt, float *gwt) {
    // gyt[t][0..<m16] = gy[o][t] (transposed, zero-padded to whole vectors): one image's gradient, P·m16 floats.
    const int m16 = (m + 15) / 16 * 16;
    for (int o = 0; o < m; o++) {
        const float *src = gy + (long)o * ldgy;
        for (int t = 0; t < p; t++) gyt[(long)t * m16 + o] = src[t];
    }
    for (int o = m; o < m16; o++)
        for (int t = 0; t < p; t++) gyt[(long)t * m16 + o] = 0;
    const long panelSize = (long)k * 32;
    // Panel by panel (sequential reads of the columns; the partial gwt stays in L1/L2), then
    // row tiles of the panel against o-blocks of up to 64 outputs.
    for (int j = 0; j * 32 < p; j++) {
        const float *panel = panels + j * panelSize;
        const int count = p - j * 32 < 32 ? p - j * 32 : 32;
        const float *g = gyt + (long)j * 32 * m16;
        for (int o0 = 0; o0 < m; o0 += 64) {
            const int width = m - o0 < 64 ? m - o0 : 64;
            const int vectors = (width + 15) / 16;
            const __mmask16 tail = width % 16 ? (__mmask16)((1u << (width % 16)) - 1) : 0xFFFF;
            // Registers: R·vectors accumulators + vectors gradient loads + 1 broadcast ≤ 32.
            const int rows = vectors <= 2 ? 12 : (vectors == 3 ? 8 : 6);
            int r = 0;
            for (; r + rows <= k; r += rows) {
                switch (vectors) {
                case 1: weight_tile(12, 1, tail, count, panel, r, g + o0, m16, gwt + o0, m16); break;
                case 2: weight_tile(12, 2, tail, count, panel, r, g + o0, m16, gwt + o0, m16); break;
                case 3: weight_tile(8, 3, tail, count, panel, r, g + o0, m16, gwt + o0, m16); break;
                default: weight_tile(6, 4, tail, count, panel, r, g + o0, m16, gwt + o0, m16); break;
                }
            }
            for (; r < k; r++) {
                switch (vectors) {
                case 1: weight_tile(1, 1, tail, count, panel, r, g + o0, m16, gwt + o0, m16); break;
                case 2: weight_tile(1, 2, tail, count, panel, r, g + o0, m16, gwt + o0, m16); break;
                case 3: weight_tile(1, 3, tail, count, panel, r, g + o0, m16, gwt + o0, m16); break;
                default: weight_tile(1, 4, tail, count, panel, r, g + o0, m16, gwt + o0, m16); break;
                }
            }
        }
    }
}

#else
void tern_im2col_panels(const float *x, int channels, int height, int width, int kernelH, int kernelW,
                        int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
                        float *panels, int streaming) { (void)streaming; (void)x; (void)channels; (void)height; (void)width; (void)kernelH; (void)kernelW;
    (void)strideH; (void)strideW; (void)padH; (void)padW; (void)dilationH; (void)dilationW; (void)panels; }
void tern_conv_forward_panels(int m, int k, int p, const float *wt, const float *panels, float *c, long ldc,
                              int accumulate) { (void)m; (void)k; (void)p; (void)wt; (void)panels; (void)c; (void)ldc; (void)accumulate; }
void tern_conv_weight_grad_panels(int m, int k, int p, const float *gy, long ldgy, const float *panels,
                                  float *gyt, float *gwt) { (void)m; (void)k; (void)p; (void)gy; (void)ldgy; (void)panels; (void)gyt; (void)gwt; }
#endif
