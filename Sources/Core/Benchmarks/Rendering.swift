// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// Renders reports for people: a terminal table for one system, Markdown and an SVG chart for all.
public enum ReportRenderer {
    /// A fixed-width table of a report's claims, with its header line.
    public static func table(_ report: BenchReport) -> String {
        var out = "\(report.system): \(report.machine.summary), commit \(report.commit), \(report.date)\n"
        out += textTable(header: ["claim", "setting", "paper", "ours", "unit", "better", "reproduced"],
                         rows: report.claims.map { c in
                             [c.id, c.setting, c.paper?.text ?? "-", c.ours.map(formatNumber) ?? "-", c.unit, c.better.rawValue, verdict(c)]
                         })
        let notes = report.claims.filter { !$0.note.isEmpty }
        if !notes.isEmpty {
            out += "\n" + notes.map { "\($0.id)\($0.setting.isEmpty ? "" : " (\($0.setting))"): \($0.note)" }.joined(separator: "\n") + "\n"
        }
        return out
    }

    /// `yes`, `no` or `-`.
    public static func verdict(_ c: Claim) -> String { c.reproduced.map { $0 ? "yes" : "no" } ?? "-" }

    /// Columns padded to their widest cell.
    public static func textTable(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        return line(header) + line(widths.map { String(repeating: "-", count: $0) }) + rows.map(line).joined()
    }

    /// The combined Markdown report: one section per system, every claim with the paper's number
    /// beside ours, the baseline, the verdict and the note. `source` says where the reports came from.
    public static func markdown(_ reports: [BenchReport], missing: [String] = [],
                                source: String = "Rendered by `tern bench all` from the committed `bench/<system>/result.json` files.") -> String {
        var out = "# Tern reproduction report\n\n"
        out += source + " "
        out += "`ours` is measured by the run that wrote each file; ratios are ours against the baseline in the same engine.\n\n"
        let claims = reports.flatMap(\.claims)
        let reproduced = claims.filter { $0.reproduced == true }.count
        let judged = claims.filter { $0.reproduced != nil }.count
        out += "\(reports.count) systems, \(claims.count) claims, \(reproduced) of \(judged) judged claims reproduced.\n\n"
        out += "| system | commit | date | machine | claims | reproduced |\n|---|---|---|---|---|---|\n"
        for r in reports {
            let judgedHere = r.claims.filter { $0.reproduced != nil }.count
            out += "| \(r.system) | `\(r.commit)` | \(r.date.prefix(10)) | \(escape(r.machine.summary)) | \(r.claims.count) | "
            out += "\(r.claims.filter { $0.reproduced == true }.count) / \(judgedHere) |\n"
        }
        if !missing.isEmpty { out += "\nNo committed result yet: \(missing.joined(separator: ", ")).\n" }
        for r in reports {
            out += "\n## \(r.system)\n\n"
            out += "| claim | setting | paper | ours | unit | better | reproduced | baseline | note |\n|---|---|---|---|---|---|---|---|---|\n"
            for c in r.claims {
                out += "| `\(c.id)` | \(escape(c.setting)) | \(c.paper?.text ?? "–") | \(c.ours.map(formatNumber) ?? "–") | \(escape(c.unit)) | "
                out += "\(c.better.rawValue) | \(verdict(c)) | \(escape(c.baseline)) | \(escape(c.note.isEmpty ? c.description : c.note)) |\n"
            }
        }
        return out
    }

    /// A horizontal bar chart: for every claim with both numbers, the paper's and ours side by side
    /// on a log scale (ratios) or a linear scale scaled per claim.
    public static func svg(_ reports: [BenchReport]) -> String {
        let rows = reports.flatMap { r in r.claims.compactMap { c -> (String, Claim)? in
            (c.paper != nil && c.ours != nil) ? (r.system, c) : nil
        } }
        let rowHeight = 26.0, left = 370.0, width = 940.0, barWidth = width - left - 130
        let height = 40 + Double(rows.count) * rowHeight + 30
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <text x="10" y="20" font-size="14">Paper (grey) vs Tern (blue; red when negative), each claim scaled to its larger magnitude; ● reproduced, ○ not</text>

        """
        for (i, (system, c)) in rows.enumerated() {
            let y = 36 + Double(i) * rowHeight
            let paper = abs(c.paper!.midpoint), ours = abs(c.ours!)  // magnitudes; the sign is the colour
            let scale = max(paper, ours, 1e-12)
            let label = "\(system) · \(c.id)\(c.setting.isEmpty ? "" : " (\(c.setting))")"
            svg += "<text x=\"10\" y=\"\(y + 14)\">\(escapeXML(String(label.prefix(60))))</text>\n"
            svg += "<rect x=\"\(left)\" y=\"\(y + 2)\" width=\"\(barWidth * paper / scale)\" height=\"9\" fill=\"#aaa\"/>\n"
            let colour = c.ours! < 0 ? "#c53030" : "#2b6cb0"
            svg += "<rect x=\"\(left)\" y=\"\(y + 12)\" width=\"\(barWidth * ours / scale)\" height=\"9\" fill=\"\(colour)\"/>\n"
            let mark = c.reproduced.map { $0 ? "●" : "○" } ?? "·"
            svg += "<text x=\"\(left + barWidth + 6)\" y=\"\(y + 16)\">\(mark) \(escapeXML(c.paper!.text)) / \(escapeXML(formatNumber(c.ours!))) \(escapeXML(c.unit))</text>\n"
        }
        return svg + "</svg>\n"
    }

    private static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }

    private static func escapeXML(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// The combined report `tern bench all` writes: every system's committed report in one object.
public struct CombinedReport: Codable, Sendable {
    /// When it was rendered.
    public var date: String
    /// The reports, in system order.
    public var reports: [BenchReport]
    /// Systems without a committed result.
    public var missing: [String]

    /// Creates a combined report.
    public init(reports: [BenchReport], missing: [String], date: Date = Date()) {
        self.reports = reports
        self.missing = missing
        self.date = BenchReport.isoDate(date)
    }
}
