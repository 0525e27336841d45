// SPDX-License-Identifier: Apache-2.0

public import GGUF
import Synchronization

/// What kind of token a vocabulary entry is (`tokenizer.ggml.token_type`).
public enum TokenKind: Int, Sendable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// A byte-level BPE tokenizer (GPT-2 family) built from a GGUF file's `tokenizer.ggml.*` metadata.
///
/// Encoding matches llama.cpp's `llama_tokenize` token for token: special tokens are split out
/// first (longest first), the remaining text is pre-tokenized (``PreTokenizer``), and each word is
/// merged by BPE rank.
///
/// ```swift
/// let tokenizer = try Tokenizer(gguf: file)
/// let ids = tokenizer.encode("Hello world", parseSpecial: true)
/// let text = tokenizer.decode(ids)
/// ```
public final class Tokenizer: @unchecked Sendable {
    /// Token strings as stored (byte-level encoded for normal tokens).
    public let tokens: [String]
    /// Kind of each token.
    public let kinds: [TokenKind]
    /// Beginning-of-sequence token, if any.
    public let bosID: Int?
    /// End-of-sequence token, if any.
    public let eosID: Int?
    /// Whether a BOS token is prepended by ``encode(_:addBOS:parseSpecial:)`` by default.
    public let addsBOS: Bool
    /// Tokens that end generation (EOS, end-of-turn and their known aliases).
    public let endOfGenerationIDs: Set<Int>
    /// The pre-tokenizer in use.
    public let preTokenizer: PreTokenizer

    private let tokenToID: [String: Int]
    /// (left id << 32 | right id) -> (rank, merged id)
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    /// Special (control and user-defined) tokens, longest text first.
    private let specialTokens: [(text: String, id: Int, kind: TokenKind)]
    /// Token id of each byte's single-scalar string.
    private let byteTokenIDs: [Int32]
    /// Decoded bytes of every token, precomputed.
    private let pieces: [[UInt8]]
    private let wordCache = Mutex<[String: [Int32]]>([:])

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    /// Builds the tokenizer from model metadata.
    /// - Throws: ``TokenizationError`` when metadata is missing or names an unsupported tokenizer.
    public convenience init(gguf: GGUFFile) throws {
        try self.init(metadata: gguf.metadata)
    }

    /// Builds the tokenizer from a metadata dictionary (as in a GGUF file).
    public init(metadata m: [String: MetadataValue]) throws {
        let model = m["tokenizer.ggml.model"]?.stringValue ?? ""
        guard model == "gpt2" else { throw TokenizationError.unsupportedModel(model) }
        guard let toks = m["tokenizer.ggml.tokens"]?.arrayValue else { throw TokenizationError.missingMetadata("tokenizer.ggml.tokens") }
        let tokens = toks.map { $0.stringValue ?? "" }
        let types = m["tokenizer.ggml.token_type"]?.arrayValue?.map { TokenKind(rawValue: $0.intValue ?? 1) ?? .normal }
            ?? [TokenKind](repeating: .normal, count: tokens.count)
        guard types.count == tokens.count else {
            throw TokenizationError.inconsistentVocabulary(tokens: tokens.count, types: types.count)
        }
        let preName = m["tokenizer.ggml.pre"]?.stringValue ?? "default"
        guard let pre = PreTokenizer(ggmlName: preName) else { throw TokenizationError.unsupportedPreTokenizer(preName) }
        self.tokens = tokens
        self.kinds = types
        self.preTokenizer = pre
        var t2i: [String: Int] = [:]
        t2i.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where t2i[t] == nil { t2i[t] = i }
        self.tokenToID = t2i

        var mergeTable: [UInt64: (rank: Int32, id: Int32)] = [:]
        let mergeStrings = m["tokenizer.ggml.merges"]?.arrayValue?.compactMap(\.stringValue) ?? []
        mergeTable.reserveCapacity(mergeStrings.count)
        for (rank, merge) in mergeStrings.enumerated() {
            let u = Array(merge.unicodeScalars)
            guard u.count >= 3, let sp = u[1...].firstIndex(of: " ") else { continue }
            var l = String.UnicodeScalarView(), r = String.UnicodeScalarView()
            l.append(contentsOf: u[..<sp])
            r.append(contentsOf: u[(sp + 1)...])
            let left = String(l), right = String(r)
            guard let li = t2i[left], let ri = t2i[right], let mi = t2i[left + right] else { continue }
            let key = UInt64(li) << 32 | UInt64(ri)
            if mergeTable[key] == nil { mergeTable[key] = (Int32(rank), Int32(mi)) }
        }
        self.merges = mergeTable

        self.byteTokenIDs = (0..<256).map { b in Int32(t2i[ByteLevel.encode([UInt8(b)])] ?? -1) }
        self.specialTokens = tokens.indices
            .filter { types[$0] == .control || types[$0] == .userDefined }
            .filter { !tokens[$0].isEmpty }
            .map { (tokens[$0], $0, types[$0]) }
            .sorted { $0.text.utf8.count > $1.text.utf8.count || ($0.text.utf8.count == $1.text.utf8.count && $0.id < $1.id) }
        self.pieces = tokens.indices.map { i in
            switch types[i] {
            case .normal, .undefined, .unknown, .unused: ByteLevel.decode(tokens[i])
            default: Array(tokens[i].utf8)
            }
        }

        let bos = m["tokenizer.ggml.bos_token_id"]?.intValue
        let eos = m["tokenizer.ggml.eos_token_id"]?.intValue
        self.bosID = bos.flatMap { $0 < tokens.count ? $0 : nil }
        self.eosID = eos.flatMap { $0 < tokens.count ? $0 : nil }
        self.addsBOS = m["tokenizer.ggml.add_bos_token"]?.boolValue ?? false
        var eog = Set<Int>()
        if let e = eosID { eog.insert(e) }
        for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = m[key]?.intValue, id < tokens.count { eog.insert(id) }
        }
        let knownEnds: Set<String> = ["<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>", "</s>"]
        for (i, t) in tokens.enumerated() where types[i] == .control && knownEnds.contains(t) { eog.insert(i) }
        self.endOfGenerationIDs = eog
    }

    /// Encodes `text` into token ids.
    ///
    /// - Parameters:
    ///   - addBOS: prepend the BOS token; defaults to the model's `add_bos_token` flag.
    ///   - parseSpecial: recognise control tokens such as `<|im_start|>` in the text (as llama.cpp's
    ///     `parse_special`); user-defined tokens are always recognised.
    public func encode(_ text: String, addBOS: Bool? = nil, parseSpecial: Bool = false) -> [Int] {
        var out: [Int] = []
        if addBOS ?? addsBOS, let b = bosID { out.append(b) }
        for fragment in partitionSpecial(text, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id): out.append(id)
            case .text(let s):
                for word in preTokenizer.split(s) { out.append(contentsOf: bpe(word).map(Int.init)) }
            }
        }
        return out
    }

    /// The bytes a token stands for; control tokens give their text only when `special` is true.
    public func bytes(of id: Int, special: Bool = true) -> [UInt8] {
        guard id >= 0 && id < tokens.count else { return [] }
        if kinds[id] == .control && !special { return [] }
        return pieces[id]
    }

    /// Decodes ids to text (invalid UTF-8 becomes U+FFFD). Control tokens are rendered when `special` is true.
    public func decode(_ ids: [Int], special: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: self.bytes(of: id, special: special)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The id of a token string, if present (e.g. `"<|im_end|>"`).
    public func id(of token: String) -> Int? { tokenToID[token] }

    // MARK: - Internals

    enum Fragment: Equatable {
        case text(String)
        case token(Int)
    }

    /// Splits out special tokens, longest first, like llama.cpp's `tokenizer_st_partition`.
    func partitionSpecial(_ text: String, parseSpecial: Bool) -> [Fragment] {
        let bytes = Array(text.utf8)
        var fragments: [FragmentRange] = [.text(0..<bytes.count)]
        for special in specialTokens {
            if special.kind == .control && !parseSpecial { continue }
            let needle = Array(special.text.utf8)
            var next: [FragmentRange] = []
            for f in fragments {
                guard case .text(let r) = f, r.count >= needle.count else {
                    next.append(f)
                    continue
                }
                var start = r.lowerBound, i = r.lowerBound
                while i + needle.count <= r.upperBound {
                    if bytes[i] == needle[0] && bytes[i..<(i + needle.count)].elementsEqual(needle) {
                        if start < i { next.append(.text(start..<i)) }
                        next.append(.token(special.id))
                        i += needle.count
                        start = i
                    } else {
                        i += 1
                    }
                }
                if start < r.upperBound { next.append(.text(start..<r.upperBound)) }
            }
            fragments = next
        }
        return fragments.map {
            switch $0 {
            case .token(let id): .token(id)
            case .text(let r): .text(String(decoding: bytes[r], as: UTF8.self))
            }
        }
    }

    private enum FragmentRange {
        case text(Range<Int>)
        case token(Int)
    }

    /// Merges the bytes of one word by BPE rank (lowest rank first, leftmost on ties).
    func bpe(_ word: String) -> [Int32] {
        if let cached = wordCache.withLock({ $0[word] }) { return cached }
        let bytes = Array(word.utf8)
        var symbols = bytes.map { byteTokenIDs[Int($0)] }
        if symbols.contains(-1) {
            // A byte with no token: cannot happen in byte-level vocabularies; skip it.
            symbols.removeAll { $0 < 0 }
        }
        while symbols.count > 1 {
            var bestRank = Int32.max, bestIndex = -1, bestID: Int32 = 0
            for i in 0..<(symbols.count - 1) {
                let key = UInt64(UInt32(bitPattern: symbols[i])) << 32 | UInt64(UInt32(bitPattern: symbols[i + 1]))
                if let m = merges[key], m.rank < bestRank {
                    bestRank = m.rank
                    bestIndex = i
                    bestID = m.id
                }
            }
            if bestIndex < 0 { break }
            symbols[bestIndex] = bestID
            symbols.remove(at: bestIndex + 1)
        }
        if bytes.count <= 64 { wordCache.withLock { $0[word] = symbols } }
        return symbols
    }
}

