// SPDX-License-Identifier: Apache-2.0

public import Foundation
import Support

/// `tern arena report`: one row per model and agent over its game records (`<model> (<agent>)`),
/// best mean score first, equal scores by name, so the table and the JSON are deterministic.
public struct Leaderboard: Sendable {
    /// One model and agent.
    public struct Row: Sendable {
        public var name: String
        public var games: Int
        public var scores: MetricScores
    }

    public let rows: [Row]
    /// Scored with the released metrics (quirks) rather than the corrected variants.
    public let released: Bool

    /// Scores `records`; a group of 20 or more games per scenario is scored as the released runs
    /// are (21 games), a smaller one by its own count.
    public init(records: [GameRecord], released: Bool) {
        var rows: [Row] = []
        for (name, group) in Dictionary(grouping: records, by: { "\($0.model) (\($0.agent))" }) {
            let n = Dictionary(grouping: group, by: \.scenario).mapValues(\.count).values.max() ?? 1
            rows.append(Row(name: name, games: group.count,
                            scores: Metrics.compute(group, options: MetricOptions(released: released, numOfGame: n >= 20 ? 21 : n))))
        }
        rows.sort {
            let a = MagicBenchmark.meanScore($0.scores) ?? 0, b = MagicBenchmark.meanScore($1.scores) ?? 0
            return a != b ? a > b : $0.name < $1.name
        }
        self.rows = rows
        self.released = released
    }

    /// Every record in the `*.jsonl` files of `directory`.
    /// - Throws: ``LeaderboardError`` when there are none; read and decode errors.
    public static func records(inDirectory directory: String) throws -> [GameRecord] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".jsonl") }.sorted()
        guard !files.isEmpty else { throw LeaderboardError(description: "no .jsonl records in \(directory)") }
        return try files.flatMap { try GameRecord.loadJSONL(path: directory + "/" + $0) }
    }

    /// The table (models x metrics).
    public var table: String { MagicBenchmark.table(rows.map { ($0.name, $0.scores) }) }

    /// `{"leaderboard": [...]}`: per row the model, games, metric variant, mean score, components and each metric.
    public func json() throws -> Data {
        let list: [JSONValue] = rows.map { r in
            var d: [String: JSONValue] = ["model": .string(r.name), "games": JSONValue(r.games), "metrics": .string(released ? "released" : "corrected"),
                                          "mean_score": JSONValue(MagicBenchmark.meanScore(r.scores)),
                                          "components": .object(r.scores.components.mapValues { JSONValue($0) })]
            for (k, v) in r.scores.all { d[k] = JSONValue(v) }
            return .object(d)
        }
        return Data(JSONValue.object(["leaderboard": .array(list)]).jsonText(pretty: true).utf8)
    }
}

/// Why a leaderboard could not be made.
public struct LeaderboardError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
