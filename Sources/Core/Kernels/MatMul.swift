// SPDX-License-Identifier: Apache-2.0

public import GGUF

/// A weight matrix used in its stored (possibly quantized) form: `rows` output features, each a
/// contiguous row of `cols` input features encoded in `type`.
public struct WeightMatrix: @unchecked Sendable {
    /// Storage type of the rows.
    public let type: GGMLType
    /// Output features.
    public let rows: Int
    /// Input features (the row length).
    public let cols: Int
    /// Start of row 0; rows are `rowBytes` apart. Must outlive every use (a mapped file or an owned buffer).
    public let data: UnsafeRawPointer

    /// Bytes per row.
    public var rowBytes: Int { type.byteCount(elements: cols) }

    /// Wraps `rows × cols` elements of `type` at `data`.
    public init(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) {
        precondition(cols % type.blockSize == 0, "WeightMatrix: \(cols) columns is not a multiple of \(type) blocks")
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    /// How activations are encoded before the dot product with rows of this type (ggml's `vec_dot_type`).
    public var activationFormat: ActivationFormat {
        switch type {
        case .q4_0, .q5_0, .q8_0: .q8_0
        case .q4_1, .q5_1: .q8_1
        case .f16: .f16
        default: .f32
        }
    }
}

/// The encoding of an activation row before a dot product with a weight row.
public enum ActivationFormat: Sendable {
    case f32, f16, q8_0, q8_1

    /// Bytes needed to hold `count` activations in this format.
    public func byteCount(_ count: Int) -> Int {
        switch self {
        case .f32: count * 4
        case .f16: count * 2
        case .q8_0: count / 32 * ActivationQuantization.q8_0BlockBytes
        case .q8_1: count / 32 * ActivationQuantization.q8_1BlockBytes
        }
    }
}

/// Preallocated working memory for ``MatMul``: encoded activations and per-thread dequantized rows.
public final class MatMulScratch: @unchecked Sendable {
    let activations: UnsafeMutableRawPointer  // [tokens, encoded row]
    let activationCapacity: Int
    let maxTokens: Int
    let rowScratch: UnsafeMutablePointer<Float>  // [threads, maxCols] for the dequantize fallback
    let maxCols: Int
    let threads: Int
    let packed: UnsafeMutableRawPointer  // 8-token groups for the tiled GEMM (``SIMDKernels``)
    let packedCapacity: Int

    /// Sizes the scratch for up to `maxTokens` rows of up to `maxCols` inputs and `threads` threads.
    public init(maxTokens: Int, maxCols: Int, threads: Int) {
        activationCapacity = maxTokens * maxCols * 4
        self.maxTokens = maxTokens
        activations = .allocate(byteCount: activationCapacity, alignment: 64)
        self.maxCols = maxCols
        self.threads = threads
        rowScratch = .allocate(capacity: threads * maxCols)
        packedCapacity = SIMDKernels.packedBytes(tokens: maxTokens, cols: maxCols)
        packed = .allocate(byteCount: max(packedCapacity, 64), alignment: 64)
    }

    deinit {
        activations.deallocate()
        rowScratch.deallocate()
        packed.deallocate()
    }
}

/// Matrix products of activations with stored weights: `y[t, r] = Σ_c W[r, c] · x[t, c]`.
public enum MatMul {
    /// Computes `y = x · Wᵀ` for `tokens` activation rows, in parallel over weight rows.
    ///
    /// Q4_1 and Q8_0 weights run on the CPU's best ``SIMDKernels`` tier (`level` overrides it, e.g.
    /// in parity tests); every tier gives results bit-identical to ``applySwift(_:_:_:tokens:pool:scratch:)``.
    ///
    /// - Parameters:
    ///   - x: `[tokens, w.cols]` activations.
    ///   - y: `[tokens, w.rows]` output.
    public static func apply(
        _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, tokens: Int,
        pool: ThreadPool, scratch: MatMulScratch, level: SIMDKernels.Level = SIMDKernels.detected
    ) {
        if level >= .avx2 && SIMDKernels.supports(w.type) {
            SIMDKernels.apply(w, x, y, tokens: tokens, pool: pool, scratch: scratch, level: level)
        } else {
            applySwift(w, x, y, tokens: tokens, pool: pool, scratch: scratch)
        }
    }

    /// The portable Swift path of ``apply(_:_:_:tokens:pool:scratch:level:)``: quantize activations,
    /// then one ``QuantizedDot`` per (row, token). The parity reference of the C kernels.
    public static func applySwift(
        _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, tokens: Int,
        pool: ThreadPool, scratch: MatMulScratch
    ) {
        let fmt = w.activationFormat
        let enc = fmt.byteCount(w.cols)
        precondition(tokens * enc <= scratch.activationCapacity && w.cols <= scratch.maxCols,
                     "MatMul: scratch too small for \(tokens)×\(w.cols)")
        precondition(pool.threadCount <= scratch.threads, "MatMul: scratch sized for fewer threads")
        let act = scratch.activations
        // Encode activations once per call.
        for t in 0..<tokens {
            let src = x + t * w.cols, dst = act + t * enc
            switch fmt {
            case .q8_0: ActivationQuantization.quantizeQ8_0(src, into: dst, count: w.cols)
            case .q8_1: ActivationQuantization.quantizeQ8_1(src, into: dst, count: w.cols)
            case .f16:
                let h = dst.assumingMemoryBound(to: Float16.self)
                for i in 0..<w.cols { h[i] = Float16(src[i]) }
            case .f32: dst.copyMemory(from: src, byteCount: enc)
            }
        }
        let rowBytes = w.rowBytes
        let blocks = w.cols / 32
        pool.run { worker in
            let rows = ThreadPool.range(of: w.rows, part: worker, parts: pool.threadCount)
            let tmp = scratch.rowScratch + worker * scratch.maxCols
            for r in rows {
                let wr = w.data + r * rowBytes
                switch w.type {
                case .q4_1:
                    for t in 0..<tokens { y[t * w.rows + r] = QuantizedDot.q4_1Q8_1(wr, act + t * enc, blocks: blocks) }
                case .q8_0:
                    for t in 0..<tokens { y[t * w.rows + r] = QuantizedDot.q8_0Q8_0(wr, act + t * enc, blocks: blocks) }
                case .q4_0:
                    for t in 0..<tokens { y[t * w.rows + r] = QuantizedDot.q4_0Q8_0(wr, act + t * enc, blocks: blocks) }
                case .q5_0:
                    for t in 0..<tokens { y[t * w.rows + r] = QuantizedDot.q5_0Q8_0(wr, act + t * enc, blocks: blocks) }
                case .q5_1:
                    for t in 0..<tokens { y[t * w.rows + r] = QuantizedDot.q5_1Q8_1(wr, act + t * enc, blocks: blocks) }
                case .f16:
                    let wh = wr.assumingMemoryBound(to: Float16.self)
                    for t in 0..<tokens {
                        y[t * w.rows + r] = QuantizedDot.f16(wh, (act + t * enc).assumingMemoryBound(to: Float16.self), count: w.cols)
                    }
                case .f32:
                    let wf = wr.assumingMemoryBound(to: Float.self)
                    for t in 0..<tokens {
                        y[t * w.rows + r] = QuantizedDot.f32(wf, (act + t * enc).assumingMemoryBound(to: Float.self), count: w.cols)
                    }
                default:
                    // Any other format (K-quants, BF16, …): decode the row once, then f32 dots.
                    Dequantize.row(w.type, wr, into: tmp, count: w.cols)
                    for t in 0..<tokens {
                        y[t * w.rows + r] = QuantizedDot.f32(tmp, (act + t * enc).assumingMemoryBound(to: Float.self), count: w.cols)
                    }
                }
            }
        }
    }

    /// Naive reference: dequantize every row and accumulate in `Double`. Used by parity tests.
    public static func reference(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, tokens: Int) {
        var row = [Float](repeating: 0, count: w.cols)
        for r in 0..<w.rows {
            row.withUnsafeMutableBufferPointer { Dequantize.row(w.type, w.data + r * w.rowBytes, into: $0.baseAddress!, count: w.cols) }
            for t in 0..<tokens {
                var s = 0.0
                for c in 0..<w.cols { s += Double(row[c]) * Double(x[t * w.cols + c]) }
                y[t * w.rows + r] = Float(s)
            }
        }
    }
}
