// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A dependency-free SVG scatter plot with the Pareto frontier (fewer crossbars, higher accuracy).
public enum ParetoPlot {
    /// An SVG of `points` (x on a log scale) with the Pareto frontier dashed.
    public static func svg(points: [(label: String, x: Double, y: Double)], title: String, xLabel: String, yLabel: String) -> String {
        let width = 720.0, height = 480.0, left = 70.0, right = 30.0, top = 50.0, bottom = 60.0
        let xs = points.map { log10(max($0.x, 1)) }, ys = points.map(\.y)
        let x0 = floor((xs.min() ?? 0) * 10) / 10 - 0.1, x1 = ceil((xs.max() ?? 1) * 10) / 10 + 0.1
        let y0 = floor((ys.min() ?? 0) - 1), y1 = ceil((ys.max() ?? 100) + 1)
        func px(_ v: Double) -> Double { left + (log10(max(v, 1)) - x0) / max(x1 - x0, 1e-9) * (width - left - right) }
        func py(_ v: Double) -> Double { height - bottom - (v - y0) / max(y1 - y0, 1e-9) * (height - top - bottom) }
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;") }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="24" text-anchor="middle" font-size="15">\(esc(title))</text>
            <line x1="\(left)" y1="\(height - bottom)" x2="\(width - right)" y2="\(height - bottom)" stroke="black"/>
            <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(height - bottom)" stroke="black"/>
            <text x="\((left + width - right) / 2)" y="\(height - 15)" text-anchor="middle">\(esc(xLabel))</text>
            <text x="18" y="\((top + height - bottom) / 2)" text-anchor="middle" transform="rotate(-90 18 \((top + height - bottom) / 2))">\(esc(yLabel))</text>

            """
        // Axis ticks: decades and 2x/5x on x, integers on y.
        var tick = pow(10, floor(x0))
        while log10(tick) <= x1 {
            for m in [1.0, 2.0, 5.0] where log10(tick * m) >= x0 && log10(tick * m) <= x1 {
                let x = px(tick * m)
                s += "<line x1=\"\(x)\" y1=\"\(height - bottom)\" x2=\"\(x)\" y2=\"\(height - bottom + 5)\" stroke=\"black\"/>"
                s += "<text x=\"\(x)\" y=\"\(height - bottom + 18)\" text-anchor=\"middle\">\(Int(tick * m))</text>\n"
            }
            tick *= 10
        }
        let yStep = max(1.0, ((y1 - y0) / 8).rounded(.up))
        var yv = y0
        while yv <= y1 {
            let y = py(yv)
            s += "<line x1=\"\(left - 5)\" y1=\"\(y)\" x2=\"\(width - right)\" y2=\"\(y)\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(left - 8)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Int(yv))</text>\n"
            yv += yStep
        }
        // Pareto frontier: points no other point beats on both axes, joined in x order.
        let frontier = points.filter { p in !points.contains { q in q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y) } }
            .sorted { $0.x < $1.x }
        if frontier.count > 1 {
            let path = frontier.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"#2a7\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
        }
        // Labels of points at the same crossbar count are stacked at least 14 px apart.
        var labelY: [Int: Double] = [:]
        for p in points.sorted(by: { $0.y > $1.y }) {
            let color = p.label.hasPrefix("epitome") ? "#d33" : (p.label.hasPrefix("pruned") || p.label.hasPrefix("slim")) ? "#36c" : "#555"
            let key = Int(p.x)
            let y = max(py(p.y) - 6, (labelY[key] ?? -1e9) + 14)
            labelY[key] = y
            s += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"5\" fill=\"\(color)\"/>"
            let rightHalf = px(p.x) > (left + width - right) * 0.6
            s += "<text x=\"\(px(p.x) + (rightHalf ? -8 : 8))\" y=\"\(y)\" fill=\"\(color)\" text-anchor=\"\(rightHalf ? "end" : "start")\">\(esc(p.label)) (\(Int(p.x)), \(String(format: "%.1f", p.y))%)</text>\n"
        }
        s += "<text x=\"\(width - right)\" y=\"\(top - 8)\" text-anchor=\"end\" fill=\"#2a7\">dashed: Pareto frontier</text>\n</svg>\n"
        return s
    }
}

