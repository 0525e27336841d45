// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Locations of committed test fixtures and of the real model, for tests.
public enum Fixtures {
    /// The repository root (derived from this file's path, so tests need no bundle resources).
    public static let repositoryRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Sources/TestSupport/Fixtures.swift
        return parts.joined(separator: "/")
    }()

    /// Absolute path of `Tests/Fixtures/<relative>`.
    public static func path(_ relative: String) -> String { repositoryRoot + "/Tests/Fixtures/" + relative }

    /// Path of the default model in the model cache (`$TERN_HOME`, default `~/.cache/tern`).
    public static var defaultModelPath: String {
        let home = getenvString("TERN_HOME") ?? ((getenvString("HOME") ?? "/root") + "/.cache/tern")
        return home + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    static func getenvString(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}

extension Fixtures {
    /// The committed JSON fixture `Tests/Fixtures/<relative>`, decoded; stops the run with the file
    /// and the decoding error when it is missing or malformed.
    public static func decode<T: Decodable>(_ type: T.Type, _ relative: String) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path(relative))))
        } catch {
            fatalError("fixture \(relative): \(error)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Fixtures {
    /// Path of the real SmolLM2 model; stops the test run with a clear message if it is missing
    /// (real-model tests never skip silently: `make test` pulls the model first).
    public static func requireDefaultModel() -> String {
        let p = defaultModelPath
        if access(p, R_OK) != 0 {
            fatalError("real-model test needs \(p): run `make test` (it pulls the model) or `tern pull smollm2-135m`")
        }
        return p
    }
}
