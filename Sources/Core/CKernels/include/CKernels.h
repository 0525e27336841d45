// SPDX-License-Identifier: Apache-2.0
//
// Innermost quantized dot-product kernels in C intrinsics (x86-64). Every function here has a
// Swift reference in Sources/Kernels (QuantizedDot, ActivationQuantization) and a parity test
// that demands bit-identical results; docs/performance.md records why these live in C.
//
// Block layouts are ggml's: Q4_1 = {f16 d, f16 m, u8 qs[16]} (20 bytes), Q8_0 = {f16 d, i8 qs[32]}
// (34 bytes), Q8_1 = {f16 d, f16 s, i8 qs[32]} (36 bytes).
#ifndef TERN_CKERNELS_H
#define TERN_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A spin-wait hint (x86 `pause`), for the thread pool's spinning phase.
static inline void tern_spin_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

/// 0: no usable x86 SIMD (use the Swift kernels); 1: AVX2 + FMA + F16C; 2: also AVX-512 BW/VL + VNNI.
int tern_simd_level(void);

/// Bytes of the packed activation layout for `tokens` rows of `blocks` 32-element blocks.
size_t tern_packed_bytes(int tokens, int blocks);

// MARK: activation quantization (bit-identical to ActivationQuantization.quantizeQ8_0/Q8_1)

void tern_quantize_q8_0(const float *x, void *dst, int count);
void tern_quantize_q8_1(const float *x, void *dst, int count);

/// Quantizes token groups [groupBegin, groupEnd) of `x` (`[tokens, blocks*32]`, rows `ldx` floats
/// apart) into the packed layout used by the GEMM kernels (8 tokens per group; missing tokens of
/// the last group are zero). `withMins` selects Q8_1 sums (for Q4_1 weights) or Q8_0 corrections.
void tern_pack_activations(const float *x, int ldx, int tokens, int blocks, void *packed,
                           int groupBegin, int groupEnd, int withMins);

// MARK: single dot products (parity tests; the matrix kernels below inline the same steps)

float tern_dot_q4_1_q8_1_avx2(const void *w, const void *a, int blocks);
float tern_dot_q4_1_q8_1_vnni(const void *w, const void *a, int blocks);
float tern_dot_q8_0_q8_0_avx2(const void *w, const void *a, int blocks);
float tern_dot_q8_0_q8_0_vnni(const void *w, const void *a, int blocks);

// MARK: matrix kernels over weight rows [rowBegin, rowEnd)

/// y[t*ldy + r] for every token t < tokens: activations in the standard Q8 layout, `actStride`
/// bytes per token. `level` is 1 (AVX2) or 2 (VNNI).
void tern_gemv_q4_1(const void *w, size_t rowBytes, int rowBegin, int rowEnd, const void *act,
                    size_t actStride, int tokens, int blocks, float *y, size_t ldy, int level);
void tern_gemv_q8_0(const void *w, size_t rowBytes, int rowBegin, int rowEnd, const void *act,
                    size_t actStride, int tokens, int blocks, float *y, size_t ldy, int level);

/// Tiled GEMM over packed activations (VNNI only): y[t*ldy + r] for t < tokens.
void tern_gemm_q4_1_packed(const void *w, size_t rowBytes, int rowBegin, int rowEnd,
                           const void *packed, int tokens, int blocks, float *y, size_t ldy);
void tern_gemm_q8_0_packed(const void *w, size_t rowBytes, int rowBegin, int rowEnd,
                           const void *packed, int tokens, int blocks, float *y, size_t ldy);

// MARK: attention over a paged f16 KV cache (bit-identical to Attention.attendPagedSwift)

/// Largest head dimension the attention kernels accept.
#define TERN_ATTN_MAX_HEAD_DIM 512

/// scores[j] = f16(q) · K_j for j < length (the query rounded through f16 first). Row j of the cache starts at
/// `base + pageTable[j / pageSize] * pageStride + (j % pageSize) * rowStride`, plus `headOffset`.
/// `order` 0 is ggml's vector order (four 16-lane accumulators), 1 is tinyBLAS's (one, sequential).
void tern_attn_scores_f16(const float *q, const uint16_t *kbase, const int32_t *pageTable,
                          int64_t pageSize, int64_t pageStride, int64_t rowStride, int64_t headOffset,
                          int length, int headDim, int order, float *scores);

/// out[0..<headDim] = Σ_j f16(probs[j]) · V_j, accumulated in 64 (order 0) or 16 (order 1)
/// interleaved lanes and reduced in a fixed tree. `lanesBuf` holds `[64, headDim]` floats.
void tern_attn_values_f16(const float *probs, const uint16_t *vbase, const int32_t *pageTable,
                          int64_t pageSize, int64_t pageStride, int64_t rowStride, int64_t headOffset,
                          int length, int headDim, int order, float *lanesBuf, float *out);

// MARK: LoRA over f16 adapter rows in pool pages (reference: LoRAKernels.*PagedReference)

/// u[t*rank + r] = Σ_c aRows[r][c] · x[t*ldx + c] (aRows: `rank` pointers to `cols` f16 values).
void tern_lora_shrink_f16(const float *x, size_t ldx, int tokens, const uint16_t *const *aRows, int rank, int cols,
                          float *u);
/// y[t*ldy + o] += scale · Σ_r u[t*rank + r] · bRows[r][o] (bRows: `rank` pointers to `rows` f16 values).
void tern_lora_expand_f16(const float *u, int tokens, const uint16_t *const *bRows, int rank, int rows, float scale,
                          float *y, size_t ldy);


// MARK: convolution GEMM over 32-column panels (AVX-512F; only when tern_simd_level() == 2)

/// Writes the im2col columns of one image `x [channels, height, width]` as 32-column panels
/// `panels[ceil(P/32)][K][32]` (P = output positions, K = channels·kernelH·kernelW; tail lanes zero;
/// 64-byte aligned). `streaming` writes past the caches (panels kept for a later pass).
void tern_im2col_panels(const float *x, int channels, int height, int width, int kernelH, int kernelW,
                        int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
                        float *panels, int streaming);

/// c[o·ldc + t] (+)= Σ_r wt[r·m + o] · column(r, t) for o < m, t < p: the weights transposed
/// (`wt [K, m]`), the columns as panels. `accumulate` adds to `c` instead of overwriting it.
void tern_conv_forward_panels(int m, int k, int p, const float *wt, const float *panels, float *c, long ldc,
                              int accumulate);

/// gwt[r·m16 + o] += Σ_t column(r, t) · gy[o·ldgy + t] for r < k, o < m, with m16 = m rounded up
/// to 16: the weight gradient, transposed. `gyt` is scratch of p·m16 floats.
void tern_conv_weight_grad_panels(int m, int k, int p, const float *gy, long ldgy, const float *panels,
                                  float *gyt, float *gwt);

#ifdef __cplusplus
}
#endif
#endif
