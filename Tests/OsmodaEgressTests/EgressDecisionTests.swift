import OsmodaEgress
import Testing

@Suite struct EgressDecisionTests {
    @Test func verdictRawValuesAreTheRecordNames() {
        #expect([EgressDecision.Verdict.allow, .deny, .report].map(\.rawValue) == ["allow", "deny", "report"])
    }
}
