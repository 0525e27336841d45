// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// What a finished child process wrote, and how it ended.
public struct ProcessOutput: Sendable, Equatable {
    /// The exit status.
    public var status: Int32
    /// Everything written to standard output and standard error, as UTF-8.
    public var stdout: String, stderr: String
}

/// Runs other programs (a benchmark's peer, `git`, the `tern` binary under test).
public enum ChildProcess {
    /// Runs `executable` (a path, or a name looked up on `PATH`) with `arguments`, writes `stdin`
    /// to it and closes it, and reads standard output and standard error at once, so a chatty
    /// child never blocks on a full pipe. `environment` adds to (or overrides) this process's.
    /// Throws only when the program cannot be started; a non-zero exit is in the output.
    public static func run(_ executable: String, _ arguments: [String], stdin: String? = nil,
                           environment: [String: String] = [:]) throws -> ProcessOutput {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        p.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? inp.fileHandleForWriting.close()
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return ProcessOutput(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}
