import OsmodaKeys
import OsmodaVault
import Testing

@Suite struct SpendRequestTests {
    @Test func kindRawValuesAreTheWireNames() {
        #expect(SpendRequest.Kind.allCases.map(\.rawValue) == ["message", "typed_data", "transaction", "transfer"])
    }
}
