// SPDX-License-Identifier: Apache-2.0

public import Support
public import Autograd
import Foundation
public import GGUF
public import Tensors
public import TransformerModels

/// A Llama decoder written in `Autograd` ops over the GGUF weights dequantized to f32 and frozen,
/// with trainable LoRA pairs on chosen projections: the training-side twin of `LlamaModel`.
///
/// It follows `LlamaModel` exactly: RMSNorm, GGUF ("normal", adjacent-pair) RoPE on the file's
/// Q/K row order, grouped-query attention, SwiGLU, tied or separate output head, and LoRA as
/// `y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ` with llama.cpp's `s = alpha / rank`. An adapter trained here is therefore
/// served unchanged by the inference engine (a test compares both forwards, with and without LoRA).
/// Frozen weights take 4 bytes per parameter (540 MB for SmolLM2-135M).
public final class TrainableLlama {
    public let hyperparameters: ModelHyperparameters
    struct Layer {
        var attnNorm, ffnNorm: Variable  // [hidden]
        var wq, wk, wv, wo, gate, up, down: Variable  // [out, in]
    }
    let embedding: Variable  // [vocab, hidden]
    let output: Variable  // [vocab, hidden]
    let outputNorm: Variable  // [hidden]
    let layers: [Layer]

    /// Dequantizes every weight of a Llama GGUF file.
    public init(file: GGUFFile) throws {
        let hp = try ModelHyperparameters(file: file, arch: file.string("general.architecture") ?? "llama")
        precondition(hp.ropeDimensions == hp.headDim, "TrainableLlama: partial RoPE is not supported")
        hyperparameters = hp
        func weight(_ name: String, _ shape: [Int]) throws -> Variable {
            guard let t = file.tensor(named: name) else { throw ModelError.missingTensor(name) }
            guard t.elementCount == shape.reduce(1, *) else { throw ModelError.badTensorShape(name, expected: shape, found: t.shape) }
            return Variable(Tensor(shape: shape, scalars: file.floats(for: t)))
        }
        typealias Name = GGUFTensorName
        embedding = try weight(Name.tokenEmbedding, [hp.vocabularySize, hp.hidden])
        output = file.tensor(named: Name.output) != nil ? try weight(Name.output, [hp.vocabularySize, hp.hidden]) : embedding
        outputNorm = try weight(Name.outputNorm, [hp.hidden])
        layers = try (0..<hp.layers).map { i in
            func block(_ b: Name.Block, _ shape: [Int]) throws -> Variable { try weight(b.name(layer: i), shape) }
            return Layer(attnNorm: try block(.attentionNorm, [hp.hidden]), ffnNorm: try block(.feedForwardNorm, [hp.hidden]),
                         wq: try block(.query, [hp.hidden, hp.hidden]), wk: try block(.key, [hp.kvDim, hp.hidden]),
                         wv: try block(.value, [hp.kvDim, hp.hidden]), wo: try block(.attentionOutput, [hp.hidden, hp.hidden]),
                         gate: try block(.gate, [hp.feedForward, hp.hidden]),
                         up: try block(.up, [hp.feedForward, hp.hidden]),
                         down: try block(.down, [hp.hidden, hp.feedForward]))
        }
    }

    /// `x / sqrt(mean(x²) + ε) · w` over the last axis. `x`: `[n, hidden]`.
    func rmsNorm(_ x: Variable, _ w: Variable) -> Variable {
        x * (x.square().mean(alongAxes: [1], keepingDimensions: true) + hyperparameters.rmsEpsilon).power(-0.5) * w
    }

    /// Adjacent-pair RoPE. `x`: `[n, heads·headDim]`; `cos`/`sin`: `[n, 1, headDim/2, 1]`.
    func rope(_ x: Variable, heads: Int, cos: Variable, sin: Variable) -> Variable {
        let n = x.shape[0], d = hyperparameters.headDim
        let pairs = x.reshaped([n, heads, d / 2, 2])
        let x0 = pairs.sliced(alongAxis: 3, 0..<1), x1 = pairs.sliced(alongAxis: 3, 1..<2)
        return Variable.concatenated([x0 * cos - x1 * sin, x0 * sin + x1 * cos], alongAxis: 3).reshaped([n, heads * d])
    }

    /// Logits for `rows` of a batch of equally long sequences.
    ///
    /// - Parameters:
    ///   - tokens: `[batch][length]` ids (pad at the end: attention is causal, so padding never
    ///     reaches earlier positions).
    ///   - rows: flat positions `b·length + t` whose logits are wanted.
    ///   - lora: trainable pairs, or nil for the base model.
    /// - Returns: `[rows.count, vocab]`.
    public func logits(_ tokens: [[Int]], rows: [Int], lora: TrainableLoRA? = nil) -> Variable {
        let hp = hyperparameters
        let batch = tokens.count, length = tokens[0].count, n = batch * length
        precondition(tokens.allSatisfy { $0.count == length }, "TrainableLlama: sequences must have equal length")
        let H = hp.heads, KV = hp.kvHeads, d = hp.headDim
        // RoPE angles per position, exactly as Elementwise.ropeAngles computes them.
        var cosines = [Float](repeating: 0, count: n * d / 2), sines = cosines
        let thetaScale = powf(hp.ropeBase, -2 / Float(hp.ropeDimensions))
        for b in 0..<batch {
            for t in 0..<length {
                var theta = Float(t)
                for i in 0..<(d / 2) {
                    cosines[(b * length + t) * d / 2 + i] = cosf(theta)
                    sines[(b * length + t) * d / 2 + i] = sinf(theta)
                    theta *= thetaScale
                }
            }
        }
        let cos = Variable(Tensor(shape: [n, 1, d / 2, 1], scalars: cosines))
        let sin = Variable(Tensor(shape: [n, 1, d / 2, 1], scalars: sines))
        // Causal mask over [batch·heads, length, length].
        var mask = [Float](repeating: 0, count: batch * H * length * length)
        for g in 0..<(batch * H) { for i in 0..<length { for j in 0...i { mask[(g * length + i) * length + j] = 1 } } }
        let causal = Tensor(shape: [batch * H, length, length], scalars: mask)
        // GQA: query head h reads kv head h / (H / KV).
        let kvIndex = (0..<H).map { Int32($0 / (H / KV)) }
        let scale = 1 / Float(d).squareRoot()

        func project(_ x: Variable, _ w: Variable, _ li: Int, _ target: LoRAAdapter.Target) -> Variable {
            let y = Variable.matmul(x, w, transposeB: true)
            guard let p = lora?.pair(layer: li, target) else { return y }
            return y + Variable.matmul(Variable.matmul(x, p.a, transposeB: true), p.b, transposeB: true) * p.scale
        }

        var x = embedding.indexSelected(alongAxis: 0, tokens.joined().map { Int32($0) })  // [n, hidden]
        for (li, layer) in layers.enumerated() {
            let xn = rmsNorm(x, layer.attnNorm)
            let q = rope(project(xn, layer.wq, li, .q), heads: H, cos: cos, sin: sin)  // [n, H·d]
            let k = rope(project(xn, layer.wk, li, .k), heads: KV, cos: cos, sin: sin)  // [n, KV·d]
            let v = project(xn, layer.wv, li, .v)
            let qh = q.reshaped([batch, length, H, d]).permuted([0, 2, 1, 3]).reshaped([batch * H, length, d])
            let kh = k.reshaped([batch, length, KV, d]).indexSelected(alongAxis: 2, kvIndex).permuted([0, 2, 1, 3]).reshaped([batch * H, length, d])
            let vh = v.reshaped([batch, length, KV, d]).indexSelected(alongAxis: 2, kvIndex).permuted([0, 2, 1, 3]).reshaped([batch * H, length, d])
            let scores = (Variable.matmul(qh, kh, transposeB: true) * scale).masked(by: causal, fill: -1e30)
            let attended = Variable.matmul(scores.softmax(), vh)  // [batch·H, length, d]
            let merged = attended.reshaped([batch, H, length, d]).permuted([0, 2, 1, 3]).reshaped([n, H * d])
            x = x + project(merged, layer.wo, li, .o)
            let fn = rmsNorm(x, layer.ffnNorm)
            let act = project(fn, layer.gate, li, .gate).silu() * project(fn, layer.up, li, .up)
            x = x + project(act, layer.down, li, .down)
        }
        let picked = x.indexSelected(alongAxis: 0, rows.map { Int32($0) })
        return Variable.matmul(rmsNorm(picked, outputNorm), output, transposeB: true)
    }
}

/// Trainable LoRA pairs `A [rank, in]`, `B [out, rank]` on chosen projections of every layer.
/// `B` starts at zero (the adapter starts as the identity), `A` uniform in ±1/√in (PEFT's
/// Kaiming-uniform default).
public final class TrainableLoRA {
    public struct Pair {
        public let a: Variable  // [rank, in]
        public let b: Variable  // [out, rank]
        public let scale: Float
    }
    public let rank: Int
    public let alpha: Float
    public let targets: [LoRAAdapter.Target]
    let pairs: [[Pair?]]  // [layer][target]

    public init(hyperparameters hp: ModelHyperparameters, rank: Int, alpha: Float, targets: [LoRAAdapter.Target], generator: inout SeededRandom) {
        self.rank = rank
        self.alpha = alpha
        self.targets = targets
        pairs = (0..<hp.layers).map { _ in
            LoRAAdapter.Target.allCases.map { t -> Pair? in
                guard targets.contains(t) else { return nil }
                let (inputs, outputs) = t.dimensions(hp)
                let bound = 1 / Float(inputs).squareRoot()
                let a = (0..<(rank * inputs)).map { _ in Float.random(in: -bound...bound, using: &generator) }
                return Pair(a: Variable(Tensor(shape: [rank, inputs], scalars: a), requiresGradient: true),
                            b: Variable(Tensor(shape: [outputs, rank], repeating: 0), requiresGradient: true),
                            scale: alpha / Float(rank))
            }
        }
    }

    func pair(layer: Int, _ t: LoRAAdapter.Target) -> Pair? { pairs[layer][t.rawValue] }

    /// Every trainable tensor (A and B of each pair).
    public var parameters: [Variable] { pairs.joined().compactMap { $0 }.flatMap { [$0.a, $0.b] } }

    /// The adapter as the inference engine serves it.
    public func adapter(name: String) -> LoRAAdapter {
        LoRAAdapter(name: name, alpha: alpha, pairs: pairs.map { row in
            row.map { p in
                p.map { LoRAAdapter.Pair(a: $0.a.value.scalars, b: $0.b.value.scalars, rank: rank,
                                         inputs: $0.a.shape[1], outputs: $0.b.shape[0], scale: $0.scale) }
            }
        })
    }
}
