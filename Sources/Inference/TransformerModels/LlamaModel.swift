// SPDX-License-Identifier: Apache-2.0

public import GGUF
public import Kernels

/// One sequence's share of a forward pass: new tokens appended to its cache.
public struct SequenceChunk {
    /// The sequence's cache; the tokens are written at positions `cache.count ..< cache.count + tokens.count`.
    public let cache: KVCache
    /// New token ids.
    public let tokens: [Int]
    /// Which of the new tokens need logits (usually only the last).
    public let logits: LogitsRequest
    /// The LoRA adapter this sequence runs with (nil: the base model).
    public let adapter: LoRAAdapter?
    /// The same adapter resident in pool pages (f16 rows); when set, the forward reads it
    /// instead of the host copy.
    public let pagedAdapter: PagedLoRA?
    /// Early exit for this sequence: run only its first `layerLimit` decoder layers, then the final
    /// norm and head (nil = all). Its cache then holds keys and values of those layers only.
    public var layerLimit: Int? = nil

    /// Creates a chunk.
    public init(cache: KVCache, tokens: [Int], logits: LogitsRequest = .last, adapter: LoRAAdapter? = nil) {
        self.cache = cache
        self.tokens = tokens
        self.logits = logits
        self.adapter = adapter
        pagedAdapter = nil
    }

    /// Creates a chunk whose adapter is read from pool pages.
    public init(cache: KVCache, tokens: [Int], logits: LogitsRequest = .last, pagedAdapter: PagedLoRA) {
        self.cache = cache
        self.tokens = tokens
        self.logits = logits
        adapter = pagedAdapter.adapter
        self.pagedAdapter = pagedAdapter
    }
}

/// Which positions of a chunk produce logits.
public enum LogitsRequest: Sendable {
    case none, last, all
}

/// A Llama-architecture decoder (Llama 2/3, SmolLM, Mistral-style GQA) over quantized GGUF weights.
///
/// Weights stay in their stored format in the memory-mapped file; matrix products use the
/// quantized dot products in `Kernels`. All activation buffers are allocated once, for up to
/// ``maxBatchTokens`` tokens per forward pass.
///
/// ```swift
/// let model = try LlamaModel(file: gguf, threads: 2)
/// let cache = model.makeCache(capacity: 2048)
/// var batch = ForwardBatch()
/// batch.append(promptIDs, to: batch.addSequence(cache: cache))
/// let logits = try model.forward(batch)[0]
/// ```
public final class LlamaModel: LanguageModel, @unchecked Sendable {
    /// The file's `general.architecture` (`llama`, `mistral`).
    public let architecture: String
    /// Hyperparameters from the file.
    public let hyperparameters: ModelHyperparameters
    /// Largest number of tokens in one forward pass.
    public let maxBatchTokens: Int
    /// The thread pool running matrix products.
    public let pool: ThreadPool
    /// Debugging hook: receives intermediate activations by llama.cpp's tensor names
    /// (`attn_norm-3`, `kqv_out-3`, `ffn_out-3`, `l_out-3`, …) as `[tokens, width]` buffers.
    /// Used to locate numeric divergence from a reference implementation; nil in normal runs.
    public var tap: ((String, UnsafeBufferPointer<Float>) -> Void)?

    struct Layer {
        let attnNorm: UnsafePointer<Float>  // [hidden]
        let wq: WeightMatrix                // [hidden] -> [heads·headDim]
        let wk: WeightMatrix                // [hidden] -> [kvDim]
        let wv: WeightMatrix                // [hidden] -> [kvDim]
        let wo: WeightMatrix                // [heads·headDim] -> [hidden]
        let ffnNorm: UnsafePointer<Float>   // [hidden]
        let gate: WeightMatrix              // [hidden] -> [ff]
        let up: WeightMatrix                // [hidden] -> [ff]
        let down: WeightMatrix              // [ff] -> [hidden]
    }

    let file: GGUFFile  // keeps the mapped weights alive
    let embedding: WeightMatrix  // [vocab, hidden]
    let output: WeightMatrix     // [vocab, hidden] (tied to `embedding` when absent)
    let outputNorm: UnsafePointer<Float>
    let layers: [Layer]
    let ownedFloats: [UnsafeMutablePointer<Float>]  // norms converted from non-F32 storage

    // Activations, allocated once. T = maxBatchTokens.
    let x: UnsafeMutablePointer<Float>        // [T, hidden] residual stream
    let xn: UnsafeMutablePointer<Float>       // [T, hidden] normed
    let q: UnsafeMutablePointer<Float>        // [T, hidden]
    let k: UnsafeMutablePointer<Float>        // [T, kvDim]
    let v: UnsafeMutablePointer<Float>        // [T, kvDim]
    let attn: UnsafeMutablePointer<Float>     // [T, hidden]
    let proj: UnsafeMutablePointer<Float>     // [T, hidden]
    let gateBuf: UnsafeMutablePointer<Float>  // [T, ff]
    let upBuf: UnsafeMutablePointer<Float>    // [T, ff]
    let ropeCos: UnsafeMutablePointer<Float>  // [T, ropeDims/2]
    let ropeSin: UnsafeMutablePointer<Float>  // [T, ropeDims/2]
    let scores: UnsafeMutablePointer<Float>   // [threads, contextLength]
    let queryHalf: UnsafeMutablePointer<Float16>  // [threads, headDim]
    let attentionLanes: UnsafeMutablePointer<Float>  // [threads, 64, headDim]
    let scratch: MatMulScratch
    var loraScratch: UnsafeMutablePointer<Float>  // [T, loraRankCapacity]: x·Aᵀ of the adapted tokens
    var loraRankCapacity: Int
    var loraPadded: UnsafeMutablePointer<Float>  // [runs, rmax, max(in, out)]: padded A, then padded Bᵀ (paddedBMM only)
    var loraPaddedCapacity: Int
    var outputBuffer: UnsafeMutablePointer<Float>  // [output rows, vocab or hidden]: what forward returns
    var outputCapacity: Int                        // floats
    var reorderBuffer: UnsafeMutablePointer<Float>  // [rows of one pass, vocab]: logits of a mixed-depth pass
    var reorderCapacity: Int                        // floats
    let scoreCapacity: Int
    /// Longest sequence (positions) a forward pass can attend over.
    public var maxContext: Int { scoreCapacity }

    /// Loads a Llama model from a parsed GGUF file with the registry's options.
    public convenience init(file: GGUFFile, options: ModelLoadOptions) throws {
        try self.init(file: file, pool: options.pool, maxBatchTokens: options.maxBatchTokens, maxContext: options.maxContext)
    }

    /// Loads a Llama model on a new pool of `threads` threads (1 = the caller's thread only).
    public convenience init(file: GGUFFile, threads: Int = 1, maxBatchTokens: Int = 512, maxContext: Int? = nil) throws {
        try self.init(file: file, pool: ThreadPool(threads: threads), maxBatchTokens: maxBatchTokens, maxContext: maxContext)
    }

    /// Loads a Llama model from a parsed GGUF file.
    ///
    /// - Parameters:
    ///   - pool: runs matrix products and attention (the process's one pool).
    ///   - maxBatchTokens: largest forward pass; longer prompts are fed in chunks.
    ///   - maxContext: longest sequence attention must handle (defaults to the trained context).
    /// - Throws: ``ModelError`` for missing or mis-shaped tensors and bad hyperparameters.
    public init(file: GGUFFile, pool: ThreadPool, maxBatchTokens: Int = 512, maxContext: Int? = nil) throws {
        let arch = file.string("general.architecture") ?? "llama"
        architecture = arch
        let hp = try ModelHyperparameters(file: file, arch: arch)
        hyperparameters = hp
        self.file = file
        self.maxBatchTokens = maxBatchTokens
        self.pool = pool
        let threads = pool.threadCount
        var owned: [UnsafeMutablePointer<Float>] = []

        func matrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> WeightMatrix {
            guard let t = file.tensor(named: name) else { throw .missingTensor(name) }
            guard t.shape == [cols, rows] else { throw .badTensorShape(name, expected: [cols, rows], found: t.shape) }
            return WeightMatrix(type: t.type, rows: rows, cols: cols, data: file.data(for: t).baseAddress!)
        }
        func vector(_ name: String, _ n: Int) throws(ModelError) -> UnsafePointer<Float> {
            guard let t = file.tensor(named: name) else { throw .missingTensor(name) }
            guard t.elementCount == n else { throw .badTensorShape(name, expected: [n], found: t.shape) }
            let raw = file.data(for: t)
            if t.type == .f32 && Int(bitPattern: raw.baseAddress!) % 4 == 0 {
                return raw.baseAddress!.assumingMemoryBound(to: Float.self)
            }
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            Dequantize.row(t.type, raw.baseAddress!, into: p, count: n)
            owned.append(p)
            return UnsafePointer(p)
        }

        typealias Name = GGUFTensorName
        embedding = try matrix(Name.tokenEmbedding, rows: hp.vocabularySize, cols: hp.hidden)
        output = file.tensor(named: Name.output) != nil
            ? try matrix(Name.output, rows: hp.vocabularySize, cols: hp.hidden) : embedding
        outputNorm = try vector(Name.outputNorm, hp.hidden)
        var layers: [Layer] = []
        for i in 0..<hp.layers {
            layers.append(Layer(
                attnNorm: try vector(Name.Block.attentionNorm.name(layer: i), hp.hidden),
                wq: try matrix(Name.Block.query.name(layer: i), rows: hp.heads * hp.headDim, cols: hp.hidden),
                wk: try matrix(Name.Block.key.name(layer: i), rows: hp.kvDim, cols: hp.hidden),
                wv: try matrix(Name.Block.value.name(layer: i), rows: hp.kvDim, cols: hp.hidden),
                wo: try matrix(Name.Block.attentionOutput.name(layer: i), rows: hp.hidden, cols: hp.heads * hp.headDim),
                ffnNorm: try vector(Name.Block.feedForwardNorm.name(layer: i), hp.hidden),
                gate: try matrix(Name.Block.gate.name(layer: i), rows: hp.feedForward, cols: hp.hidden),
                up: try matrix(Name.Block.up.name(layer: i), rows: hp.feedForward, cols: hp.hidden),
                down: try matrix(Name.Block.down.name(layer: i), rows: hp.hidden, cols: hp.feedForward)))
        }
        self.layers = layers
        ownedFloats = owned

        let t = maxBatchTokens
        x = .allocate(capacity: t * hp.hidden)
        xn = .allocate(capacity: t * hp.hidden)
        q = .allocate(capacity: t * hp.hidden)
        k = .allocate(capacity: t * hp.kvDim)
        v = .allocate(capacity: t * hp.kvDim)
        attn = .allocate(capacity: t * hp.hidden)
        proj = .allocate(capacity: t * hp.hidden)
        gateBuf = .allocate(capacity: t * hp.feedForward)
        upBuf = .allocate(capacity: t * hp.feedForward)
        ropeCos = .allocate(capacity: t * hp.ropeDimensions / 2)
        ropeSin = .allocate(capacity: t * hp.ropeDimensions / 2)
        scoreCapacity = maxContext ?? hp.contextLength
        scores = .allocate(capacity: threads * scoreCapacity)
        queryHalf = .allocate(capacity: threads * hp.headDim)
        attentionLanes = .allocate(capacity: threads * 64 * hp.headDim)
        scratch = MatMulScratch(maxTokens: t, maxCols: max(hp.hidden, hp.feedForward), threads: threads)
        outputCapacity = hp.vocabularySize
        outputBuffer = .allocate(capacity: hp.vocabularySize)
        reorderCapacity = 0
        reorderBuffer = .allocate(capacity: 1)
        loraRankCapacity = 64
        loraScratch = .allocate(capacity: t * 64)
        loraPaddedCapacity = 0
        loraPadded = .allocate(capacity: 1)
    }

    deinit {
        for p in ownedFloats { p.deallocate() }
        for p in [x, xn, q, k, v, attn, proj, gateBuf, upBuf, ropeCos, ropeSin, scores, outputBuffer, reorderBuffer, attentionLanes, loraScratch, loraPadded] { p.deallocate() }
        queryHalf.deallocate()
    }

    /// A new, empty cache for one sequence of up to `capacity` positions.
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(hyperparameters: hyperparameters, capacity: min(capacity, scoreCapacity))
    }

    /// Runs the batch's tokens (see ``LanguageModel/forward(_:)``).
    ///
    /// Early exit: a slot's ``ForwardBatch/layerLimits`` entry and the batch's
    /// ``ForwardBatch/layerLimit`` (the smaller wins) run only the first `n` decoder layers, then the
    /// final norm and head. A cache written by a limited pass holds keys and values for those
    /// layers only, so continue it with the same or a smaller limit. Slots of different depths share
    /// one pass: layer `l` runs only over the tokens whose depth exceeds `l` (each layer's weights
    /// are read once for all of them).
    public func forward(_ batch: ForwardBatch) throws(ModelError) -> ForwardOutput {
        let n = batch.tokens.count
        guard batch.positions.count == n, batch.sequences.count == n, batch.outputs.count == n,
              batch.adapterSlots.count == n, batch.layerLimits.count == batch.caches.count else {
            throw .invalidArgument("forward batch: its per-token (or per-slot) arrays differ in length")
        }
        let vocab = hyperparameters.vocabularySize
        // Runs: each slot's tokens, one contiguous run at consecutive positions from its cache's count.
        var runs: [(slot: Int, start: Int, count: Int)] = []
        var seen = [Bool](repeating: false, count: batch.caches.count)
        var outputRow = [Int](repeating: -1, count: n)  // [tokens]: output row of each token, -1 = none
        var rows = 0
        for i in 0..<n {
            let id = batch.tokens[i], s = batch.sequences[i], a = batch.adapterSlots[i]
            guard id >= 0 && id < vocab else { throw .tokenOutOfRange(id, vocabularySize: vocab) }
            guard s >= 0 && s < batch.caches.count else {
                throw .invalidArgument("token \(i): sequence slot \(s) outside 0..<\(batch.caches.count)")
            }
            guard a >= -1 && a < batch.adapters.count else {
                throw .invalidArgument("token \(i): adapter slot \(a) outside -1..<\(batch.adapters.count)")
            }
            if let last = runs.last, last.slot == s {
                runs[runs.count - 1].count += 1
            } else {
                guard !seen[s] else { throw .invalidArgument("the tokens of sequence slot \(s) are not contiguous") }
                seen[s] = true
                runs.append((s, i, 1))
            }
            let expected = batch.caches[s].count + i - runs[runs.count - 1].start
            guard batch.positions[i] == expected else {
                throw .invalidArgument("token \(i): position \(batch.positions[i]), but sequence slot \(s) continues at \(expected)")
            }
            if batch.outputs[i] {
                outputRow[i] = rows
                rows += 1
            }
        }
        for r in runs {
            let cache = batch.caches[r.slot]
            let needed = cache.count + r.count
            let capacity = min(cache.capacity, scoreCapacity)
            guard needed <= capacity else { throw .contextOverflow(needed: needed, capacity: capacity) }
        }
        for a in batch.adapters { try check(a.adapter) }

        let width = batch.output == .logits ? vocab : hyperparameters.hidden
        if rows * width > outputCapacity {
            // Grows to the largest output seen; steady-state steps allocate nothing.
            outputBuffer.deallocate()
            outputBuffer = .allocate(capacity: rows * width)
            outputCapacity = rows * width
        }
        let limit = min(max(batch.layerLimit ?? layers.count, 1), layers.count)
        let depths = runs.map { min(max(batch.layerLimits[$0.slot] ?? layers.count, 1), limit) }  // [runs]
        // Deepest runs first (stable), so in every pass the tokens still running layer l are a
        // prefix of the rows. Then split into passes of at most maxBatchTokens tokens.
        let order = Set(depths).count <= 1 ? Array(runs.indices) : runs.indices.sorted { (depths[$1], $0) < (depths[$0], $1) }
        var pending: [Piece] = []
        var budget = maxBatchTokens
        for ri in order {
            var off = 0
            while off < runs[ri].count {
                if budget == 0 {
                    runPass(batch, runs, pending, depths: depths, outputRow: outputRow, width: width)
                    pending.removeAll(keepingCapacity: true)
                    budget = maxBatchTokens
                }
                let count = min(budget, runs[ri].count - off)
                pending.append(Piece(run: ri, offset: off, count: count))
                off += count
                budget -= count
            }
        }
        if !pending.isEmpty { runPass(batch, runs, pending, depths: depths, outputRow: outputRow, width: width) }
        return ForwardOutput(tokenIndices: outputRow.indices.filter { outputRow[$0] >= 0 }, width: width, base: outputBuffer)
    }

    /// A slice of one run (one slot's tokens) computed in one pass.
    struct Piece {
        let run: Int, offset: Int, count: Int
    }

    /// Throws unless every pair of `adapter` fits this model's layers and projection shapes.
    public func check(_ adapter: LoRAAdapter) throws(ModelError) {
        let hp = hyperparameters
        guard adapter.pairs.count == hp.layers else {
            throw .badAdapter("\(adapter.name): \(adapter.pairs.count) layers, the model has \(hp.layers)")
        }
        for (li, row) in adapter.pairs.enumerated() {
            for t in LoRAAdapter.Target.allCases {
                guard let p = row[t.rawValue] else { continue }
                let (i, o) = t.dimensions(hp)
                guard p.inputs == i, p.outputs == o else {
                    throw .badAdapter("\(adapter.name): layer \(li) \(t) is \(p.inputs)->\(p.outputs), the model's is \(i)->\(o)")
                }
            }
        }
    }

    /// One pass over ≤ maxBatchTokens tokens; run `i` runs its first `depths[i]` layers. Pieces of
    /// the same run arrive in order, and pieces come in non-increasing depth.
    private func runPass(
        _ batch: ForwardBatch, _ runs: [(slot: Int, start: Int, count: Int)], _ pieces: [Piece], depths: [Int],
        outputRow: [Int], width: Int
    ) {
        let hp = hyperparameters
        let hidden = hp.hidden, kvDim = hp.kvDim, headDim = hp.headDim
        let total = pieces.reduce(0) { $0 + $1.count }
        // active[l]: tokens that run layer l, always rows 0..<active[l] (depths are non-increasing).
        let depth = depths[pieces[0].run]
        var active = [Int](repeating: 0, count: depth)
        for piece in pieces {
            for l in 0..<depths[piece.run] { active[l] += piece.count }
        }
        // Per row: the batch token, its cache and its absolute position.
        var rowToken: [Int] = []
        var tokenCache: [KVCache] = []
        var tokenPos: [Int] = []
        rowToken.reserveCapacity(total)
        tokenCache.reserveCapacity(total)
        tokenPos.reserveCapacity(total)

        // Embeddings: dequantize the token's row.
        var t = 0
        for piece in pieces {
            let run = runs[piece.run]
            for i in 0..<piece.count {
                let ti = run.start + piece.offset + i
                let id = batch.tokens[ti]
                Dequantize.row(embedding.type, embedding.data + id * embedding.rowBytes, into: x + t * hidden, count: hidden)
                rowToken.append(ti)
                tokenCache.append(batch.caches[run.slot])
                tokenPos.append(batch.positions[ti])
                let half = hp.ropeDimensions / 2
                Elementwise.ropeAngles(position: batch.positions[ti], dims: hp.ropeDimensions, base: hp.ropeBase,
                                       cos: ropeCos + t * half, sin: ropeSin + t * half)
                t += 1
            }
        }

        // Runs of consecutive rows that share a LoRA adapter (a prefill piece is one run; a
        // decode batch has one run per sequence). The base projection is computed once for all
        // tokens; each run then adds its own low-rank term.
        var loraRuns: [(start: Int, count: Int, adapter: LoRAAdapter, paged: PagedLoRA?)] = []
        do {
            var lastSlot = -1
            for (row, ti) in rowToken.enumerated() {
                let slot = batch.adapterSlots[ti]
                defer { lastSlot = slot }
                guard slot >= 0 else { continue }
                if slot == lastSlot {
                    loraRuns[loraRuns.count - 1].count += 1
                } else {
                    let a = batch.adapters[slot]
                    loraRuns.append((row, 1, a.adapter, a.paged))
                }
            }
            let rank = loraRuns.map(\.adapter.maxRank).max() ?? 0
            if rank > loraRankCapacity {
                loraScratch.deallocate()
                loraScratch = .allocate(capacity: maxBatchTokens * rank)
                loraRankCapacity = rank
            }
        }
        let u = loraScratch
        let loraBatching = batch.loraBatching
        /// y[t, :] += s·(x[t, :]·Aᵀ)·Bᵀ for every adapted token (x: [total, inputs], y: [total, outputs]).
        func lora(_ li: Int, _ target: LoRAAdapter.Target, _ xIn: UnsafePointer<Float>, _ inputs: Int,
                  _ y: UnsafeMutablePointer<Float>, _ outputs: Int) {
            let rows = active[li]
            if loraBatching == .paddedBMM {
                paddedLoRA(li, target, xIn, inputs, y, outputs, rows: rows, runs: loraRuns, u: u)
                return
            }
            for var run in loraRuns where run.start < rows {
                run.count = min(run.count, rows - run.start)
                if let paged = run.paged {
                    guard let p = paged.pair(layer: li, target) else { continue }
                    LoRAKernels.shrinkPaged(xIn + run.start * inputs, ldx: inputs, tokens: run.count, aRows: p.aRows, rank: p.rank,
                                            cols: inputs, u: u)
                    LoRAKernels.expandPaged(u, tokens: run.count, bRows: p.bRows, rank: p.rank, rows: outputs, scale: p.scale,
                                            y: y + run.start * outputs, ldy: outputs)
                    continue
                }
                guard let p = run.adapter.pair(layer: li, target) else { continue }
                LoRAKernels.shrink(xIn + run.start * inputs, ldx: inputs, tokens: run.count, a: p.a, rank: p.rank, cols: inputs, u: u)
                LoRAKernels.expand(u, tokens: run.count, bT: p.bT, rank: p.rank, rows: outputs, scale: p.scale,
                                   y: y + run.start * outputs, ldy: outputs)
            }
        }

        let scale = 1 / Float(headDim).squareRoot()
        func tapped(_ name: String, _ li: Int, _ p: UnsafeMutablePointer<Float>, _ width: Int) {
            tap?("\(name)-\(li)", UnsafeBufferPointer(start: p, count: active[li] * width))
        }
        tap?("embd", UnsafeBufferPointer(start: x, count: total * hidden))
        for (li, layer) in layers.prefix(depth).enumerated() {
            // Tokens past their exit layer keep their hidden row in x untouched from here on.
            let total = active[li]
            for t in 0..<total {
                Elementwise.rmsNorm(x + t * hidden, weight: layer.attnNorm, eps: hp.rmsEpsilon, out: xn + t * hidden, count: hidden)
            }
            tapped("attn_norm", li, xn, hidden)
            MatMul.apply(layer.wq, xn, q, tokens: total, pool: pool, scratch: scratch)
            MatMul.apply(layer.wk, xn, k, tokens: total, pool: pool, scratch: scratch)
            MatMul.apply(layer.wv, xn, v, tokens: total, pool: pool, scratch: scratch)
            if !loraRuns.isEmpty {
                lora(li, .q, xn, hidden, q, hidden)
                lora(li, .k, xn, hidden, k, kvDim)
                lora(li, .v, xn, hidden, v, kvDim)
            }
            let half = hp.ropeDimensions / 2
            for t in 0..<total {
                Elementwise.rope(q + t * hidden, heads: hp.heads, headDim: headDim, dims: hp.ropeDimensions,
                                 cos: ropeCos + t * half, sin: ropeSin + t * half)
                Elementwise.rope(k + t * kvDim, heads: hp.kvHeads, headDim: headDim, dims: hp.ropeDimensions,
                                 cos: ropeCos + t * half, sin: ropeSin + t * half)
                let kr = tokenCache[t].keyRow(layer: li, position: tokenPos[t])
                let vr = tokenCache[t].valueRow(layer: li, position: tokenPos[t])
                for i in 0..<kvDim {
                    kr[i] = Float16(k[t * kvDim + i])
                    vr[i] = Float16(v[t * kvDim + i])
                }
            }
            tapped("Qcur", li, q, hidden)
            tapped("Kcur", li, k, kvDim)
            // Attention: each token sees its own sequence up to and including itself. Like
            // llama.cpp, multi-token passes accumulate in tinyBLAS order, single tokens in ggml's.
            let order: AccumulationOrder = total >= 2 ? .sequential : .vector
            pool.run { worker in
                let sc = scores + worker * scoreCapacity
                let qh = queryHalf + worker * headDim
                // Interleaved, not contiguous: in a causal prefill token t costs ∝ t, so halves
                // would give the last worker three quarters of the work.
                for t in stride(from: worker, to: total, by: pool.threadCount) {
                    let cache = tokenCache[t]
                    Attention.attendPaged(
                        query: q + t * hidden, keys: cache.keyPages(layer: li), values: cache.valuePages(layer: li),
                        length: tokenPos[t] + 1, heads: hp.heads, kvHeads: hp.kvHeads, headDim: headDim, scale: scale,
                        out: attn + t * hidden, scores: sc, queryHalf: qh,
                        accumulators: attentionLanes + worker * 64 * headDim, order: order)
                }
            }
            tapped("kqv_out", li, attn, hidden)
            MatMul.apply(layer.wo, attn, proj, tokens: total, pool: pool, scratch: scratch)
            if !loraRuns.isEmpty { lora(li, .o, attn, hidden, proj, hidden) }
            tapped("attn_out", li, proj, hidden)
            Elementwise.add(x, proj, count: total * hidden)
            tapped("ffn_inp", li, x, hidden)
            for t in 0..<total {
                Elementwise.rmsNorm(x + t * hidden, weight: layer.ffnNorm, eps: hp.rmsEpsilon, out: xn + t * hidden, count: hidden)
            }
            tapped("ffn_norm", li, xn, hidden)
            MatMul.apply(layer.gate, xn, gateBuf, tokens: total, pool: pool, scratch: scratch)
            MatMul.apply(layer.up, xn, upBuf, tokens: total, pool: pool, scratch: scratch)
            if !loraRuns.isEmpty {
                lora(li, .gate, xn, hidden, gateBuf, hp.feedForward)
                lora(li, .up, xn, hidden, upBuf, hp.feedForward)
            }
            Elementwise.swiglu(gate: gateBuf, up: upBuf, out: gateBuf, count: total * hp.feedForward)
            tapped("ffn_swiglu", li, gateBuf, hp.feedForward)
            MatMul.apply(layer.down, gateBuf, proj, tokens: total, pool: pool, scratch: scratch)
            if !loraRuns.isEmpty { lora(li, .down, gateBuf, hp.feedForward, proj, hidden) }
            tapped("ffn_out", li, proj, hidden)
            Elementwise.add(x, proj, count: total * hidden)
            tapped("l_out", li, x, hidden)
        }

        // Commit the new positions.
        for piece in pieces { batch.caches[runs[piece.run].slot].count += piece.count }
        // Output rows: (row in this pass, destination row of the output).
        var wanted: [(row: Int, dest: Int)] = []
        for (row, ti) in rowToken.enumerated() where outputRow[ti] >= 0 { wanted.append((row, outputRow[ti])) }
        guard !wanted.isEmpty else { return }
        if batch.output == .hidden {
            for w in wanted { (outputBuffer + w.dest * hidden).update(from: x + w.row * hidden, count: hidden) }
            return
        }
        // Final norm and output projection for the requested rows only.
        for (j, w) in wanted.enumerated() {
            Elementwise.rmsNorm(x + w.row * hidden, weight: outputNorm, eps: hp.rmsEpsilon, out: xn + j * hidden, count: hidden)
        }
        let vocab = hp.vocabularySize
        let first = wanted[0].dest
        if wanted.enumerated().allSatisfy({ $0.element.dest == first + $0.offset }) {
            // Rows in order (every pass but a mixed-depth one): straight into place.
            MatMul.apply(output, xn, outputBuffer + first * vocab, tokens: wanted.count, pool: pool, scratch: scratch)
            return
        }
        if wanted.count * vocab > reorderCapacity {
            reorderBuffer.deallocate()
            reorderBuffer = .allocate(capacity: wanted.count * vocab)
            reorderCapacity = wanted.count * vocab
        }
        MatMul.apply(output, xn, reorderBuffer, tokens: wanted.count, pool: pool, scratch: scratch)
        for (j, w) in wanted.enumerated() {
            (outputBuffer + w.dest * vocab).update(from: reorderBuffer + j * vocab, count: vocab)
        }
    }
}
