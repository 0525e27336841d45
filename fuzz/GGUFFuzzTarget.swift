// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for the GGUF reader. Built by fuzz/run.sh together with Sources/Core/GGUF.
// Any input must either parse or throw GGUFError; a parsed file's tensor views must be readable.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? GGUFFile(bytes: bytes) else { return 0 }
    var checksum: Float = 0
    for t in file.tensors where t.elementCount <= 1 << 16 {
        for v in file.floats(for: t) { checksum += v }
    }
    for k in file.metadataKeys { _ = file.metadata[k]?.description }
    return checksum.isNaN ? 0 : 0
}
