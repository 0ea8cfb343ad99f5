import OsmodaCore
@testable import OsmodaDaemon
import OsmodaIPC
import Testing

/// `ledger.append_batch` params are decoded by hand for speed; they must stay exactly
/// as strict as the generic decoder: unknown fields, wrong types and missing fields
/// are refused with the field's path.
@Suite struct LedgerBatchParams {
    private func parse(_ text: String) -> Result<[(type: String, payload: [UInt8])], RPCError> {
        let value = try! JSONReader.parse(Array(text.utf8))
        return Result { () throws(RPCError) in try LedgerService.BatchParams.parse(value).records }
    }

    private func message(_ text: String) -> String? {
        if case .failure(let e) = parse(text) { return e.message }
        return nil
    }

    @Test func validBatch() throws {
        let records = try parse(#"{"records":[{"type":"a.b","payload_json":"{\"x\":1}"},{"payload_json":"{}","type":"c.d"}]}"#).get()
        #expect(records.map(\.type) == ["a.b", "c.d"])
        #expect(records.map { String(decoding: $0.payload, as: UTF8.self) } == [#"{"x":1}"#, "{}"])
    }

    @Test func refusals() {
        #expect(message(#"[]"#) == "params: expected an object")
        #expect(message(#"{}"#) == "params: 'records': missing required field")
        #expect(message(#"{"records":{}}"#) == "params: 'records': expected an array")
        #expect(message(#"{"records":[],"extra":1}"#) == "params: 'extra': unknown field")
        #expect(message(#"{"records":[1]}"#) == "params: 'records[0]': expected an object")
        #expect(message(#"{"records":[{"type":"a.b"}]}"#) == "params: 'records[0].payload_json': missing required field")
        #expect(message(#"{"records":[{"payload_json":"{}"}]}"#) == "params: 'records[0].type': missing required field")
        #expect(message(#"{"records":[{"type":1,"payload_json":"{}"}]}"#) == "params: 'records[0].type': expected a string")
        #expect(message(#"{"records":[{"type":"a.b","payload_json":"{}","actor":"root"}]}"#) == "params: 'records[0].actor': unknown field")
        #expect(message(#"{"records":[{"type":"a.b","payload_json":"{}","actor":{}}]}"#) == "params: 'records[0].actor': unknown field")
    }

    @Test func tooManyRecords() {
        let one = #"{"type":"a.b","payload_json":"{}"}"#
        let text = #"{"records":["# + Array(repeating: one, count: LedgerMethod.maxBatchRecords + 1).joined(separator: ",") + "]}"
        #expect(message(text) == "at most \(LedgerMethod.maxBatchRecords) records in one batch, not \(LedgerMethod.maxBatchRecords + 1)")
    }
}
