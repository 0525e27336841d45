// SPDX-License-Identifier: Apache-2.0

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
