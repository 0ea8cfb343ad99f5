import Foundation
@testable import OsmodaVault
import OsmodaCore
import Testing

@Suite("RLP and Ethereum transactions")
struct RLPTests {
    static let lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit"

    /// The examples of the Ethereum wiki's RLP page.
    @Test func wikiExamples() {
        #expect(RLP.string("dog").encoded == [0x83] + Array("dog".utf8))
        #expect(RLP.list([.string("cat"), .string("dog")]).encoded == [0xc8, 0x83] + Array("cat".utf8) + [0x83] + Array("dog".utf8))
        #expect(RLP.string("").encoded == [0x80])
        #expect(RLP.list([]).encoded == [0xc0])
        #expect(RLP.uint(0).encoded == [0x80])
        #expect(RLP.bytes([0x00]).encoded == [0x00])
        #expect(RLP.bytes([0x0f]).encoded == [0x0f])
        #expect(RLP.uint(15).encoded == [0x0f])
        #expect(RLP.uint(1024).encoded == [0x82, 0x04, 0x00])
        // The set-theoretical representation of three: [ [], [[]], [ [], [[]] ] ].
        let three = RLP.list([.list([]), .list([.list([])]), .list([.list([]), .list([.list([])])])])
        #expect(three.encoded == [0xc7, 0xc0, 0xc1, 0xc0, 0xc3, 0xc0, 0xc1, 0xc0])
        #expect(RLP.string(Self.lorem).encoded == [0xb8, 0x38] + Array(Self.lorem.utf8))
    }

    @Test func decodeRoundTripsAndIsStrict() throws {
        let items: [RLP] = [
            .string("dog"), .list([.string("cat"), .string("dog")]), .bytes([]), .list([]), .uint(1024),
            .string(Self.lorem), .bytes([UInt8](repeating: 0xaa, count: 70000)),
            .list((0..<100).map { .uint(UInt64($0) * 1000) }),
        ]
        for item in items { #expect(try RLP.decode(item.encoded) == item) }
        let invalid: [[UInt8]] = [
            [], [0x81, 0x05],               // a single byte < 0x80 must not be wrapped
            [0xb8, 0x05, 1, 2, 3, 4, 5],    // long form for a short string
            [0xb9, 0x00, 0x38] + [UInt8](repeating: 1, count: 56),  // leading zero in the length
            [0x83, 0x64, 0x6f],             // truncated
            [0x80, 0x80],                   // trailing bytes
            [0xc2, 0x83, 0x64],             // list body runs past its item
            [0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ]
        for bytes in invalid {
            #expect(throws: VaultError.self, "\(bytes.prefix(4))") { try RLP.decode(bytes) }
        }
        let deep = [UInt8](repeating: 0xc1, count: 100) + [0xc0]
        #expect(throws: VaultError.self) { try RLP.decode(Array(deep)) }
    }

    @Test func quantities() throws {
        #expect(try Quantity.parse(decimal: "0") == [])
        #expect(try Quantity.parse(decimal: "1024") == [0x04, 0x00])
        #expect(try Quantity.parse(decimal: "1000000000000000000") == Hex.decode("0de0b6b3a7640000"))
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        #expect(try Quantity.parse(decimal: max) == [UInt8](repeating: 0xff, count: 32))
        #expect(Quantity.decimal([UInt8](repeating: 0xff, count: 32)) == max)
        #expect(Quantity.decimal([]) == "0")
        for bad in ["", "-1", "1.0", "1e18", "01", " 1", "115792089237316195423570985008687907853269984665640564039457584007913129639936"] {
            #expect(throws: VaultError.self, "\(bad)") { try Quantity.parse(decimal: bad) }
        }
    }

    /// EIP-155's example transaction, signed with its key: the published signing data,
    /// signing hash and signed transaction, byte for byte (RFC 6979 is deterministic).
    @Test func eip155Example() throws {
        let key = try EthereumPrivateKey(#require(Hex.decodeSecret(String(repeating: "46", count: 32))))
        let tx = EthereumTransaction(
            chainID: 1, nonce: 9, fee: .legacy(gasPrice: try Quantity.parse(decimal: "20000000000")), gasLimit: 21000,
            to: try EthereumAddress(parsing: "0x3535353535353535353535353535353535353535"),
            value: try Quantity.parse(decimal: "1000000000000000000"))
        #expect(Hex.encode(tx.signingPayload) == "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080")
        #expect(Hex.encode(tx.signingHash) == "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53")
        let signed = try tx.sign(with: key)
        #expect(Hex.encode(signed.raw) == "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83")
        #expect(signed.hash == Keccak256.hash(signed.raw))
        #expect(try Ethereum.recoverAddress(digest: tx.signingHash, signature: signed.signature) == key.address)
    }

    @Test func eip1559SignsAndRecovers() throws {
        let key = EthereumPrivateKey.generate()
        let to = try EthereumAddress(parsing: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
        let tx = EthereumTransaction(
            chainID: 11155111, nonce: 0,
            fee: .eip1559(maxPriorityFeePerGas: try Quantity.parse(decimal: "1500000000"), maxFeePerGas: try Quantity.parse(decimal: "30000000000")),
            gasLimit: 21000, to: to, value: try Quantity.parse(decimal: "123456789012345678901"), data: [0xde, 0xad],
            accessList: [.init(address: to, storageKeys: [[UInt8](repeating: 1, count: 32)])])
        let signed = try tx.sign(with: key)
        #expect(signed.raw[0] == 0x02)
        guard case .list(let items) = try RLP.decode(Array(signed.raw.dropFirst())) else { Issue.record("not a list"); return }
        #expect(items.count == 12)
        #expect(items[0] == .uint(11155111))
        #expect(items[5] == .bytes(to.bytes))
        #expect(items[6] == .bytes(try Quantity.parse(decimal: "123456789012345678901")))
        #expect(items[9] == .uint(UInt64(signed.signature.recoveryID)))
        #expect(try Ethereum.recoverAddress(digest: tx.signingHash, signature: signed.signature) == key.address)
        // The signing payload is the signed one without (yParity, r, s).
        #expect(tx.signingPayload == [0x02] + RLP.list(Array(items.prefix(9))).encoded)
        // A legacy transaction with an access list, a zero chain id or a non-minimal
        // amount is refused.
        var bad = tx
        bad.chainID = 0
        #expect(throws: VaultError.self) { try bad.sign(with: key) }
        bad = tx
        bad.value = [0, 1]
        #expect(throws: VaultError.self) { try bad.sign(with: key) }
        bad = tx
        bad.fee = .legacy(gasPrice: [1])
        #expect(throws: VaultError.self) { try bad.sign(with: key) }
    }
}

@Suite("Ethereum transactions from JSON")
struct TransactionJSONTests {
    static func tx(_ text: String) throws -> EthereumTransaction {
        try EthereumTransaction(json: JSONReader.parse(text))
    }

    @Test func eip155ExampleFromJSON() throws {
        let tx = try Self.tx("""
        {"chain_id": 1, "nonce": 9, "to": "0x3535353535353535353535353535353535353535",
         "value_wei": "1000000000000000000", "gas_limit": 21000, "gas_price_wei": "20000000000"}
        """)
        let key = try EthereumPrivateKey(#require(Hex.decodeSecret(String(repeating: "46", count: 32))))
        #expect(Hex.encode(try tx.sign(with: key).raw).hasPrefix("f86c098504a817c800825208"))
        #expect(tx.valueDecimal == "1000000000000000000")
    }

    @Test func eip1559FromJSON() throws {
        let tx = try Self.tx("""
        {"chain_id": "11155111", "nonce": 0, "to": null, "value_wei": 0, "gas_limit": 100000,
         "max_fee_per_gas_wei": "30000000000", "max_priority_fee_per_gas_wei": "1000000000", "data": "0x6000",
         "access_list": [{"address": "0x3535353535353535353535353535353535353535", "storage_keys": ["0x\(String(repeating: "00", count: 32))"]}]}
        """)
        #expect(tx.to == nil)
        #expect(tx.accessList.count == 1)
        guard case .eip1559 = tx.fee else { Issue.record("not EIP-1559"); return }
    }

    @Test(arguments: [
        #"{"chain_id":1,"nonce":0,"value_wei":"1","gas_limit":1}"#,  // no fee
        #"{"chain_id":1,"nonce":0,"value_wei":"1","gas_limit":1,"gas_price_wei":"1","max_fee_per_gas_wei":"1"}"#,
        #"{"chain_id":1,"nonce":0,"value_wei":"1","gas_limit":1,"max_fee_per_gas_wei":"1","max_priority_fee_per_gas_wei":"2"}"#,
        #"{"chain_id":1,"nonce":0,"value_wei":1.5,"gas_limit":1,"gas_price_wei":"1"}"#,
        #"{"chain_id":1,"nonce":0,"value_wei":"-1","gas_limit":1,"gas_price_wei":"1"}"#,
        #"{"chain_id":1,"nonce":-1,"value_wei":"1","gas_limit":1,"gas_price_wei":"1"}"#,
        #"{"chain_id":0,"nonce":0,"value_wei":"1","gas_limit":1,"gas_price_wei":"1"}"#,
        #"{"chain_id":1,"nonce":"18446744073709551616","value_wei":"1","gas_limit":1,"gas_price_wei":"1"}"#,
        #"{"chain_id":1,"nonce":0,"value_wei":"1","gas_limit":1,"gas_price_wei":"1","to":"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}"#,
        #"{"chain_id":1,"nonce":0,"value_wei":"1","gas_limit":1,"gas_price_wei":"1","data":"zz"}"#,
        #"{"chain_id":1,"nonce":0,"value_wei":"1","gas_limit":1,"gas_price_wei":"1","access_list":[]}"#,
        #"{"chain_id":1,"nonce":0,"value_wei":"1","gas_limit":1,"gas_price_wei":"1","gasPrice":"1"}"#,
        #"{"chain_id":1,"value_wei":"1","gas_limit":1,"gas_price_wei":"1"}"#,
        #"[1]"#,
    ])
    func refused(text: String) {
        #expect(throws: VaultError.self) { try Self.tx(text) }
    }

    @Test func compare() {
        #expect(Quantity.compare([1], [0, 1]) == 0)
        #expect(Quantity.compare([2], [1, 0]) == -1)
        #expect(Quantity.compare([1, 0], [0xff]) == 1)
        #expect(Quantity.compare([], []) == 0)
    }
}
