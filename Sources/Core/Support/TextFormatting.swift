// SPDX-License-Identifier: Apache-2.0

import Foundation

/// `s` padded with spaces to `width` characters: left-aligned for a negative width, right-aligned
/// otherwise, for fixed-width tables (`String(format:)` ignores the width of `%@` on Linux).
///
/// ```swift
/// padded("acc", -6) + "|"   // "acc   |"
/// padded("42", 5)           // "   42"
/// ```
public func padded(_ s: String, _ width: Int) -> String {
    let n = abs(width) - s.count
    guard n > 0 else { return s }
    let pad = String(repeating: " ", count: n)
    return width < 0 ? s + pad : pad + s
}

/// Bytes in a size such as `256M`, `1G`, `512MiB`, `64k` or `1048576` (binary units); `nil` when
/// `s` is not one.
public func parseByteSize(_ s: String) -> Int? {
    let t = s.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
    let units: [(String, Int)] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)]
    for (u, m) in units where t.hasSuffix(u) {
        return Double(t.dropLast()).flatMap { $0 >= 0 ? Int($0 * Double(m)) : nil }
    }
    return Int(t).flatMap { $0 >= 0 ? $0 : nil }
}
