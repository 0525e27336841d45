// SPDX-License-Identifier: Apache-2.0

import Foundation
import ZIPFoundation

/// The Free On-line Dictionary of Computing as installed by Debian's `dict-foldoc`
/// (`/usr/share/dictd/foldoc.dict.dz` + `foldoc.index`): about 15,000 headwords over 12,000
/// cross-linked entries. Our offline stand-in for the paper's Wikipedia.
///
/// The `.index` lines are `headword \t offset \t length` with dictd's base-64 numbers; the `.dz`
/// is dictzip, a gzip file whose extra header field we skip before inflating the raw deflate data.
public final class FoldocDictionary: Sendable {
    /// Where Debian installs it.
    public static let defaultDirectory = "/usr/share/dictd"

    /// One dictionary entry, parsed.
    public struct Entry: Sendable, Equatable {
        /// The entry's title lines (the first is the main title; others are aliases).
        public let titles: [String]
        /// Senses (numbered `1.`, `2.` in the source; one for most entries), each cleaned to plain text.
        public let senses: [Sense]
        /// Where `{cross-references}` in a redirect-only entry point (`EPP` -> `Enhanced Parallel Port`).
        public let redirect: String?
    }

    /// One sense of an entry.
    public struct Sense: Sendable, Equatable {
        /// Category tags such as `language`, `operating system`.
        public let categories: [String]
        /// The sense's text without markup, dates or URLs.
        public let text: String

        /// The first `count` sentences.
        public func sentences(_ count: Int) -> String {
            FoldocDictionary.sentences(of: text).prefix(count).joined(separator: " ")
        }
    }

    let text: [UInt8]
    /// Lower-cased headword -> (offset, length) in the decompressed text.
    let index: [String: (Int, Int)]
    /// Bytes of the inflated dictionary text.
    public var byteCount: Int { text.count }
    /// Headwords as written in the index, sorted.
    public let headwords: [String]

    /// Loads and inflates the dictionary from `directory`.
    public init(directory: String = FoldocDictionary.defaultDirectory) throws(AgentError) {
        let dz = directory + "/foldoc.dict.dz", ix = directory + "/foldoc.index"
        guard let compressed = FileManager.default.contents(atPath: dz),
              let indexData = FileManager.default.contents(atPath: ix) else {
            throw .dictionary("FOLDOC not found in \(directory): install the Debian package dict-foldoc (scripts/install-deps.sh)")
        }
        text = try Self.gunzip(compressed)
        var index: [String: (Int, Int)] = [:]
        var heads: [String] = []
        for line in String(decoding: indexData, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 3, let o = Self.base64(f[1]), let l = Self.base64(f[2]), o + l <= text.count else { continue }
            let h = String(f[0])
            if h.hasPrefix("00-database") || h.hasPrefix("00database") { continue }
            heads.append(h)
            index[h.lowercased()] = (o, l)
        }
        self.index = index
        headwords = heads.sorted()
    }

    /// dictd's base-64 numerals (`A` = 0 ... `/` = 63, most significant digit first).
    static func base64(_ s: Substring) -> Int? {
        var n = 0
        for c in s.utf8 {
            let v: Int
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = Int(c) - 65
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = Int(c) - 97 + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = Int(c) - 48 + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: return nil
            }
            n = n * 64 + v
        }
        return n
    }

    /// Inflates a gzip (or dictzip) file: parses the RFC 1952 header, inflates the deflate body.
    static func gunzip(_ data: Data) throws(AgentError) -> [UInt8] {
        let b = [UInt8](data)
        guard b.count > 18, b[0] == 0x1f, b[1] == 0x8b, b[2] == 8 else { throw .dictionary("not a gzip file") }
        let flags = b[3]
        var p = 10
        if flags & 4 != 0 {  // FEXTRA (dictzip keeps its chunk table here)
            let xlen = Int(b[p]) | Int(b[p + 1]) << 8
            p += 2 + xlen
        }
        if flags & 8 != 0 { while p < b.count && b[p] != 0 { p += 1 }; p += 1 }   // FNAME
        if flags & 16 != 0 { while p < b.count && b[p] != 0 { p += 1 }; p += 1 }  // FCOMMENT
        if flags & 2 != 0 { p += 2 }                                              // FHCRC
        guard p < b.count - 8 else { throw .dictionary("truncated gzip header") }
        let size = b.count - 8 - p
        let expected = Int(b[b.count - 4]) | Int(b[b.count - 3]) << 8 | Int(b[b.count - 2]) << 16 | Int(b[b.count - 1]) << 24
        var out = [UInt8]()
        out.reserveCapacity(expected)
        do {
            // On Linux the inflater asks for whole buffers past the end: clamp to the deflate body.
            let bodyEnd = data.startIndex + p + size
            _ = try Data.decompress(size: Int64(size), bufferSize: 1 << 16, skipCRC32: true, provider: { pos, n in
                let start = Swift.min(data.startIndex + p + Int(pos), bodyEnd)
                return data.subdata(in: start..<Swift.min(start + n, bodyEnd))
            }, consumer: { chunk in
                out.append(contentsOf: chunk)
            })
        } catch {
            throw .dictionary("inflate failed: \(error)")
        }
        guard out.count & 0xffff_ffff == expected else { throw .dictionary("inflated \(out.count) bytes, header says \(expected)") }
        return out
    }

    /// The entry whose headword is `title` (case-insensitive), if any.
    public func entry(_ title: String) -> Entry? {
        let key = title.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard let (o, l) = index[key] else { return nil }
        return Self.parseEntry(String(decoding: text[o..<(o + l)], as: UTF8.self))
    }

    /// Up to `limit` headwords most similar to `query`: titles containing it or contained in it
    /// first, then by edit distance.
    public func similarTitles(_ query: String, limit: Int = 5) -> [String] {
        let q = query.lowercased()
        guard !q.isEmpty else { return [] }
        var scored: [(Int, String)] = []
        let qs = Array(q.utf8)
        for h in headwords {
            let l = h.lowercased()
            var score: Int
            if l.hasPrefix(q) || q.hasPrefix(l) && l.count >= 3 {
                score = abs(l.count - q.count)
            } else if l.contains(q) || (l.count >= 4 && q.contains(l)) {
                score = 10 + abs(l.count - q.count)
            } else {
                guard abs(l.utf8.count - qs.count) <= 3 else { continue }
                score = 20 + Self.editDistance(Array(l.utf8), qs, bound: 4)
                if score >= 24 { continue }
            }
            scored.append((score, h))
        }
        return scored.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.prefix(limit).map(\.1)
    }

    static func editDistance(_ a: [UInt8], _ b: [UInt8], bound: Int) -> Int {
        var prev = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var cur = [i] + [Int](repeating: 0, count: b.count)
            var best = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                best = Swift.min(best, cur[j])
            }
            if best > bound { return bound }
            prev = cur
        }
        return Swift.min(prev[b.count], bound)
    }

    // MARK: - Entry text

    static func parseEntry(_ raw: String) -> Entry {
        let paragraphs = raw.components(separatedBy: "\n\n")
        let titles = (paragraphs.first ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var senses: [(categories: [String], text: [String])] = []
        for p in paragraphs.dropFirst() {
            var t = p.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            if t.isEmpty { continue }
            // A date stamp "(2007-02-21)" or a bare URL paragraph carries no facts.
            if t.hasPrefix("("), t.hasSuffix(")"), t.count <= 12 { continue }
            if t.hasPrefix("{(http") || t.hasPrefix("{Usenet}") || t.hasPrefix("Usenet") || t.hasPrefix("E-mail") { continue }
            // "2. <compiler> ..." starts a new sense.
            var number = false
            if let dot = t.firstIndex(of: "."), dot > t.startIndex, t[..<dot].allSatisfy(\.isNumber), t[t.index(after: dot)...].hasPrefix(" ") {
                number = true
                t = String(t[t.index(dot, offsetBy: 2)...])
            }
            var categories: [String] = []
            if t.hasPrefix("<"), let close = t.firstIndex(of: ">") {
                categories = t[t.index(after: t.startIndex)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                t = String(t[t.index(after: close)...]).trimmingCharacters(in: .whitespaces)
            }
            if number || senses.isEmpty {
                senses.append((categories, [t]))
            } else {
                senses[senses.count - 1].text.append(t)
            }
        }
        var redirect: String?
        if senses.count == 1, senses[0].text.count == 1 {
            let t = senses[0].text[0]
            if t.hasPrefix("{"), t.hasSuffix("}"), t.dropFirst().firstIndex(of: "{") == nil { redirect = String(t.dropFirst().dropLast()) }
        }
        return Entry(titles: titles, senses: senses.map { Sense(categories: $0.categories, text: clean($0.text.joined(separator: " "))) },
                     redirect: redirect)
    }

    /// Drops `{}` link braces, URLs in parentheses, pronunciations and e-mail addresses.
    static func clean(_ s: String) -> String {
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "(" || c == "<", let close = s[i...].firstIndex(of: c == "(" ? ")" : ">") {
                let inner = s[s.index(after: i)..<close]
                if inner.contains("http") || inner.contains(".html") || inner.contains("@") || inner.hasPrefix("news:") || inner.hasPrefix("ftp:") {
                    if out.hasSuffix(" ") { out.removeLast() }
                    i = s.index(after: close)
                    continue
                }
            }
            if c == "/", out.hasSuffix(" ") || out.isEmpty, let close = s[s.index(after: i)...].firstIndex(of: "/"),
               s[i..<close].count < 30, !s[i..<close].contains(" ") {
                i = s.index(after: close)  // pronunciation /yoo'niks/
                if i < s.endIndex, s[i] == " " { i = s.index(after: i) }
                continue
            }
            if c != "{" && c != "}" { out.append(c) }
            i = s.index(after: i)
        }
        while out.contains("  ") { out = out.replacingOccurrences(of: "  ", with: " ") }
        return out.trimmingCharacters(in: .whitespaces)
    }

    /// Splits text into sentences at `. `, `? ` and `! ` followed by a capital, digit or quote,
    /// not after common abbreviations.
    public static func sentences(of text: String) -> [String] {
        let c = Array(text)
        var out: [String] = []
        var start = 0
        var i = 0
        while i < c.count {
            if ".?!".contains(c[i]), i + 2 < c.count, c[i + 1] == " ", c[i + 2].isUppercase || c[i + 2].isNumber || c[i + 2] == "\"" {
                let word = String(c[start..<i]).split(separator: " ").last.map(String.init) ?? ""
                let abbreviations: Set<String> = ["e.g", "i.e", "etc", "Mr", "Dr", "vs", "St", "cf", "Inc", "Ltd", "Co", "approx"]
                if !abbreviations.contains(word) && !(word.count == 1 && word.first!.isUppercase) {
                    out.append(String(c[start...i]).trimmingCharacters(in: .whitespaces))
                    start = i + 2
                    i += 2
                    continue
                }
            }
            i += 1
        }
        if start < c.count { out.append(String(c[start...]).trimmingCharacters(in: .whitespaces)) }
        return out.filter { !$0.isEmpty }
    }
}

/// `search(entity)`: exact-title lookup in FOLDOC returning the first sentences of the entry
/// (the paper's Wikipedia tool, offline). A redirect-only entry is followed once; an entry with
/// several senses returns the first and names the others (FOLDOC's disambiguation); no entry
/// returns "Could not find ... Similar: [...]".
public struct FoldocSearchTool: Tool {
    /// The dictionary.
    public let dictionary: FoldocDictionary
    /// Sentences returned (the paper: 5; its LLaMA Movie variant: 1).
    public let sentences: Int
    /// Longest result in characters.
    public let maxCharacters: Int

    public let name = "search"
    public let parameters = [ToolParameter("entity", .string)]
    public let rules = [
        "Looks up the entity (a computing term, language, system or company) in a computing encyclopedia and returns the first sentences of its entry.",
        "The entity should be as short as possible, for example \"Python\" or \"Unix\".",
        "If the entry is not found, it returns similar titles; search one of them.",
    ]

    /// Creates the tool.
    public init(dictionary: FoldocDictionary, sentences: Int = 3, maxCharacters: Int = 500) {
        self.dictionary = dictionary
        self.sentences = sentences
        self.maxCharacters = maxCharacters
    }

    public func call(_ arguments: [TaskArgument]) async throws -> Observation {
        guard let query = arguments.first?.text.trimmingCharacters(in: CharacterSet(charactersIn: " \"'[]")), !query.isEmpty else {
            throw AgentError.badArguments(tool: name, "expected an entity")
        }
        return .text(lookup(query))
    }

    /// The text `search(query)` returns.
    public func lookup(_ query: String) -> String {
        guard var entry = dictionary.entry(query) else {
            let similar = dictionary.similarTitles(query)
            return "Could not find \(query). Similar: [\(similar.map { "'\($0)'" }.joined(separator: ", "))]."
        }
        var title = entry.titles.first { $0.lowercased() == query.lowercased() } ?? entry.titles.first ?? query
        if let target = entry.redirect, let next = dictionary.entry(target) {
            entry = next
            title = next.titles.first ?? target
        }
        return render(entry, title: title)
    }

    /// The result text for a parsed entry shown under `title`.
    public func render(_ entry: FoldocDictionary.Entry, title: String) -> String {
        guard let sense = entry.senses.first else { return "\(title): (empty entry)." }
        var text = "\(title)"
        if !sense.categories.isEmpty { text += " (\(sense.categories.joined(separator: ", ")))" }
        text += ": " + sense.sentences(sentences)
        if text.count > maxCharacters { text = String(text.prefix(maxCharacters)) + "..." }
        if entry.senses.count > 1 {
            let others = entry.senses.dropFirst().prefix(4).map { $0.categories.first ?? "other" }
            text += " [Other senses: \(others.joined(separator: "; "))]"
        }
        return text
    }
}
