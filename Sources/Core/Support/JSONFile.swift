// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// A value kept as one JSON file (a tier table, a trained router policy, generated settings),
/// pretty-printed with sorted keys so that committed files diff cleanly.
public protocol JSONFile: Codable {}

extension JSONFile {
    /// Reads the value from the JSON file at `path`.
    public init(contentsOf path: String) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The value as pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    /// Writes ``jsonData()`` to `path`.
    public func write(to path: String) throws {
        try jsonData().write(to: URL(fileURLWithPath: path))
    }
}
