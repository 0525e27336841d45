// SPDX-License-Identifier: Apache-2.0

import Foundation
public import Support

/// Lets a long benchmark resume where it stopped: each finished piece is saved under a key, and a
/// rerun with the same settings takes saved pieces instead of measuring them again.
///
/// Pieces live in `<directory>/pieces.json` beside the result; the file also records the settings,
/// and a run with different settings starts afresh (so a resumed report never mixes settings).
///
/// ```swift
/// let checkpoint = BenchCheckpoint(directory: "bench/slora/partial", settings: settings)
/// let row = try await checkpoint.piece("100 adapters/slora") { try await measure(...) }
/// ```
public final class BenchCheckpoint: @unchecked Sendable {
    /// Where pieces are kept; `nil` keeps nothing (quick runs).
    public let directory: String?
    private let settings: [String: JSONValue]
    private var pieces: [String: JSONValue]
    private let lock = NSLock()

    private struct Stored: Codable {
        var settings: [String: JSONValue]
        var pieces: [String: JSONValue]
    }

    /// Opens (or starts) a checkpoint. With `directory == nil` nothing is saved.
    public init(directory: String?, settings: [String: JSONValue]) {
        self.directory = directory
        self.settings = settings
        pieces = [:]
        if let path = directory.map({ $0 + "/pieces.json" }), let data = FileManager.default.contents(atPath: path),
           let stored = try? JSONDecoder().decode(Stored.self, from: data), stored.settings == settings {
            pieces = stored.pieces
        }
    }

    /// How many pieces were taken from a previous run.
    public var resumedCount: Int { lock.withLock { pieces.count } }

    /// The saved value for `key`, or `compute()`'s, which is then saved.
    public func piece<T: Codable>(_ key: String, _ compute: () async throws -> T) async throws -> T {
        if let saved = lock.withLock({ pieces[key] }), let value = try? JSONDecoder().decode(T.self, from: JSONEncoder().encode(saved)) {
            return value
        }
        let value = try await compute()
        try save(key, value)
        return value
    }

    /// The synchronous form of ``piece(_:_:)``.
    public func piece<T: Codable>(_ key: String, _ compute: () throws -> T) throws -> T {
        if let saved = lock.withLock({ pieces[key] }), let value = try? JSONDecoder().decode(T.self, from: JSONEncoder().encode(saved)) {
            return value
        }
        let value = try compute()
        try save(key, value)
        return value
    }

    /// Deletes the saved pieces and the folder, with anything a benchmark kept there beside them
    /// (a trained network later pieces start from): the run finished and its report is written.
    public func finish() {
        guard let directory else { return }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func save<T: Codable>(_ key: String, _ value: T) throws {
        guard let directory else { return }
        let json = try JSONValue(encoding: value)
        let stored = lock.withLock { () -> Stored in
            pieces[key] = json
            return Stored(settings: settings, pieces: pieces)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(stored).write(to: URL(fileURLWithPath: directory + "/pieces.json"), options: .atomic)
    }
}
