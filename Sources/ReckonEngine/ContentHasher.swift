import Foundation
import ReckonCore

/// SHA-256 of an imported dump's content. The digest is the same either way; the system's
/// libcrypto (loaded at run time, when present) is used because it hashes with the CPU's SHA
/// instructions, an order of magnitude faster than the portable ``SHA256`` of the core, which
/// is the fallback. On a 1M-row dump (180 MB) the portable one alone costs seconds.
final class ContentHasher: @unchecked Sendable {   // used by one thread at a time (an import: the parsing threads, one chunk after another)
    private typealias Init = @convention(c) (UnsafeMutableRawPointer) -> Int32
    private typealias Update = @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer?, Int) -> Int32
    private typealias Final = @convention(c) (UnsafeMutablePointer<UInt8>, UnsafeMutableRawPointer) -> Int32
    private struct Crypto: @unchecked Sendable {
        let initialize: Init
        let update: Update
        let final: Final
    }

    /// Loads the system's libcrypto, if not yet loaded, so that the first hashed chunk does not
    /// wait for it.
    static func loadLibrary() { _ = crypto }

    private static let crypto: Crypto? = {
        for name in ["libcrypto.so.3", "libcrypto.so"] {
            guard let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let i = dlsym(h, "SHA256_Init"), let u = dlsym(h, "SHA256_Update"), let f = dlsym(h, "SHA256_Final") else {
                dlclose(h)
                continue
            }
            return Crypto(initialize: unsafeBitCast(i, to: Init.self), update: unsafeBitCast(u, to: Update.self),
                          final: unsafeBitCast(f, to: Final.self))
        }
        return nil
    }()

    private var portable = SHA256()
    /// OpenSSL's SHA256_CTX (112 bytes), with room to spare.
    private var context: UnsafeMutableRawPointer?
    private var crypto: Crypto?
    /// Whether the library was looked for: on the first use, not at `init`, so that loading it
    /// (~1 ms) is not on the thread that starts an import (an import's reading thread loads it
    /// ahead, ``loadLibrary()``).
    private var started = false

    deinit { context?.deallocate() }

    init() {}

    private func start() {
        started = true
        crypto = Self.crypto
        if let c = crypto {
            let ctx = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
            if c.initialize(ctx) == 1 { context = ctx } else { ctx.deallocate() }
        }
    }

    func update(_ chunk: UnsafeRawBufferPointer) {
        if !started { start() }
        if let ctx = context, let c = crypto {
            _ = c.update(ctx, chunk.baseAddress, chunk.count)
        } else {
            portable.update(chunk)
        }
    }

    /// The digest as 64 lower-case hex digits; the hasher is spent afterwards.
    func finalizeHex() -> String {
        if !started { start() }
        guard let ctx = context, let c = crypto else { return portable.finalizeHex() }
        var digest = [UInt8](repeating: 0, count: 32)
        _ = c.final(&digest, ctx)
        ctx.deallocate()
        context = nil
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in digest { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
