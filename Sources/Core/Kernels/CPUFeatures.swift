// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the running CPU supports, checked at startup because Tern is compiled for AVX2 + FMA.
public enum CPUFeatures {
    /// Instruction-set flags reported by the kernel (`/proc/cpuinfo`), e.g. `avx2`, `avx512_vnni`.
    public static let flags: Set<String> = {
        guard let f = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0 {
            let s = String(cString: line!)
            if s.hasPrefix("flags") {
                return Set(s.split(whereSeparator: { " \t\n:".contains($0) }).map(String.init))
            }
        }
        return []
    }()

    /// The flags this build needs but the CPU lacks (empty when all is well or when unknown).
    public static var missingRequiredFlags: [String] {
        #if arch(x86_64)
        guard !flags.isEmpty else { return [] }
        return ["avx", "avx2", "fma", "f16c"].filter { !flags.contains($0) }
        #else
        return []
        #endif
    }

    /// A sentence naming what the build requires, for the startup error.
    public static let requirement =
        "Tern is built for x86-64 CPUs with AVX2, FMA and F16C (Intel Haswell, AMD Excavator or newer)."
}
