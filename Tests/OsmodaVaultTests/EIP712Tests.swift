import Foundation
@testable import OsmodaVault
import OsmodaCore
import Testing

@Suite("EIP-712 typed data (v4)")
struct EIP712Tests {
    /// EIP-712's "Mail" example, as eth_signTypedData_v4 receives it.
    static let mail = """
    {"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},
    {"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
    "Person":[{"name":"name","type":"string"},{"name":"wallet","type":"address"}],
    "Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]},
    "primaryType":"Mail",
    "domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
    "message":{"from":{"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
    "to":{"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},"contents":"Hello, Bob!"}}
    """

    static func parse(_ text: String) throws -> EIP712TypedData {
        try EIP712TypedData(json: JSONReader.parse(text))
    }

    @Test func mailExample() throws {
        let data = try Self.parse(Self.mail)
        #expect(try data.encodeType("Mail") == "Mail(Person from,Person to,string contents)Person(string name,address wallet)")
        #expect(Hex.encode(try data.typeHash("Mail")) == "a0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2")
        #expect(Hex.encode(try data.hashStruct("Mail", data.message)) == "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e")
        #expect(Hex.encode(try data.domainSeparator()) == "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f")
        #expect(Hex.encode(try data.signingHash()) == "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")
        // The example's signer is keccak256("cow").
        let cow = try EthereumPrivateKey(SecretBytes(copying: Keccak256.hash(Array("cow".utf8))))
        #expect(cow.address.description == "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")
        let sig = try cow.signTypedData(data)
        #expect(sig.description == "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c")
        #expect(try Ethereum.recoverAddress(digest: data.signingHash(), signature: sig) == cow.address)
    }

    static func expectWord(_ type: String, _ value: String, _ hex: String) throws {
        let text = """
        {"types":{"EIP712Domain":[],"T":[{"name":"v","type":"\(type)"}]},"primaryType":"T","domain":{},"message":{"v":\(value)}}
        """
        let data = try parse(text)
        let want = Keccak256.hash(try data.typeHash("T") + (try #require(Hex.decode(hex))))
        #expect(try data.hashStruct("T", data.message) == want, "\(type) \(value)")
    }

    @Test func integerEncodings() throws {
        let zeros = { (n: Int) in String(repeating: "00", count: n) }
        let ffs = { (n: Int) in String(repeating: "ff", count: n) }
        try Self.expectWord("uint256", "0", zeros(32))
        try Self.expectWord("uint256", "\"1000000000000000000\"", zeros(24) + "0de0b6b3a7640000")
        try Self.expectWord("uint256", "\"0x0de0b6b3a7640000\"", zeros(24) + "0de0b6b3a7640000")
        try Self.expectWord("uint8", "255", zeros(31) + "ff")
        try Self.expectWord("int8", "-1", ffs(32))
        try Self.expectWord("int8", "-128", ffs(31) + "80")
        try Self.expectWord("int8", "127", zeros(31) + "7f")
        try Self.expectWord("int256", "\"-57896044618658097711785492504343953926634992332820282019728792003956564819968\"", "80" + zeros(31))
        try Self.expectWord("bool", "true", zeros(31) + "01")
        try Self.expectWord("address", "\"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"", zeros(12) + String(repeating: "bb", count: 20))
        try Self.expectWord("bytes4", "\"0xdeadbeef\"", "deadbeef" + zeros(28))
        try Self.expectWord("string", "\"\"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        try Self.expectWord("bytes", "\"0x\"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        // Arrays (v4): keccak of the concatenated element encodings.
        try Self.expectWord("uint8[]", "[1,2]", Hex.encode(Keccak256.hash(Hex.decode(zeros(31) + "01" + zeros(31) + "02")!)))
        try Self.expectWord("uint8[2]", "[1,2]", Hex.encode(Keccak256.hash(Hex.decode(zeros(31) + "01" + zeros(31) + "02")!)))
    }

    @Test(arguments: [
        ("uint8", "256"), ("uint8", "-1"), ("int8", "128"), ("int8", "-129"), ("uint256", "1.5"),
        ("uint256", "\"1e18\""), ("uint256", "\"0x\""), ("uint256", "\"0x0x12\""), ("uint", "1"), ("uint7", "1"),
        ("bool", "1"), ("address", "\"0x1234\""), ("address", "\"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\""),
        ("bytes4", "\"0xdead\""), ("bytes33", "\"0x00\""), ("bytes", "\"dead\""), ("string", "1"),
        ("uint8[2]", "[1]"), ("uint8[]", "1"), ("Undefined", "{}"),
    ])
    func refusedValues(type: String, value: String) throws {
        let text = """
        {"types":{"EIP712Domain":[],"T":[{"name":"v","type":"\(type)"}]},"primaryType":"T","domain":{},"message":{"v":\(value)}}
        """
        #expect(throws: VaultError.self) {
            let data = try Self.parse(text)
            _ = try data.signingHash()
        }
    }

    @Test func strictStructure() throws {
        var text = Self.mail.replacingOccurrences(of: "\"contents\":\"Hello, Bob!\"", with: "\"contents\":\"Hello, Bob!\",\"extra\":1")
        #expect(throws: VaultError.self) { try Self.parse(text).signingHash() }
        text = Self.mail.replacingOccurrences(of: ",\"contents\":\"Hello, Bob!\"", with: "")
        #expect(throws: VaultError.self) { try Self.parse(text).signingHash() }
        text = Self.mail.replacingOccurrences(of: "\"primaryType\":\"Mail\"", with: "\"primaryType\":\"Letter\"")
        #expect(throws: VaultError.self) { try Self.parse(text) }
        text = Self.mail.replacingOccurrences(of: "\"EIP712Domain\"", with: "\"Domain\"")
        #expect(throws: VaultError.self) { try Self.parse(text) }
        // A struct may not shadow an atomic type (a contract would read it differently).
        for name in ["address", "uint256", "bytes32", "string", "bool", "int"] {
            let shadow = """
            {"types":{"EIP712Domain":[],"\(name)":[{"name":"x","type":"string"}]},"primaryType":"EIP712Domain","domain":{},"message":{}}
            """
            #expect(throws: VaultError.self, "\(name)") { try Self.parse(shadow) }
        }
        // A self-referencing type cannot recurse without bound.
        text = """
        {"types":{"EIP712Domain":[],"N":[{"name":"next","type":"N"}]},"primaryType":"N","domain":{},"message":{"next":{"next":{"next":{}}}}}
        """
        #expect(throws: VaultError.self) { try Self.parse(text).signingHash() }
    }

    @Test func arraysOfStructsRoundTrip() throws {
        let text = Self.mail
            .replacingOccurrences(of: "{\"name\":\"to\",\"type\":\"Person\"}", with: "{\"name\":\"to\",\"type\":\"Person[]\"}")
            .replacingOccurrences(of: "\"to\":{\"name\":\"Bob\",\"wallet\":\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"}",
                                  with: "\"to\":[{\"name\":\"Bob\",\"wallet\":\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"},{\"name\":\"Ann\",\"wallet\":\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"}]")
        let data = try Self.parse(text)
        #expect(try data.encodeType("Mail") == "Mail(Person from,Person[] to,string contents)Person(string name,address wallet)")
        let key = EthereumPrivateKey.generate()
        let sig = try key.signTypedData(data)
        #expect(try Ethereum.recoverAddress(digest: data.signingHash(), signature: sig) == key.address)
        #expect(try data.signingHash() != (try Self.parse(Self.mail).signingHash()))
    }
}
