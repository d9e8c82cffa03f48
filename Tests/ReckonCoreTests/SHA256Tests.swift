import ReckonCore
import Testing

/// Test vectors from FIPS 180-4 / NIST CAVP examples.
@Suite struct SHA256Tests {
    func hex(_ s: String) -> String { var h = SHA256(); h.update(Array(s.utf8)); return h.finalizeHex() }

    @Test func knownVectors() {
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func incrementalEqualsOneShot() {
        let data = Array(repeating: UInt8(ascii: "a"), count: 1_000_000)
        var h = SHA256()
        var i = 0
        while i < data.count { let n = min(777, data.count - i); h.update(Array(data[i..<i + n])); i += n }
        #expect(h.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
