import OsmodaCheck
import OsmodaCore
import OsmodaSystem
import Testing

/// Decodes one probe from JSON text, as a probe file entry would be.
private func spec(_ json: String) throws -> ProbeSpec {
    try ProbeSpec.decode(try JSONReader.parse(json))
}

/// The message a bad probe gets.
private func refusal(_ json: String) -> String? {
    do {
        _ = try ProbeSpec.decode(try JSONReader.parse(json))
        return nil
    } catch let e as ProbeSpecError {
        return e.description
    } catch {
        return "unexpected \(error)"
    }
}

@Suite struct ProbeSpecDecoding {
    @Test func tcpWithDefaults() throws {
        let s = try spec(#"{"name":"web","kind":"tcp","host":"127.0.0.1","port":8080}"#)
        #expect(s == ProbeSpec(name: "web", timeoutMs: 5000, probe: .tcp(.init(host: "127.0.0.1", port: 8080))))
        #expect(s.target == "127.0.0.1:8080")
    }

    @Test func everyKindDecodes() throws {
        let http = try spec(#"{"name":"h","kind":"http","url":"https://example.org:8443/health?x=1#top","body_contains":"ok","insecure":true,"timeout_ms":250}"#)
        guard case .http(let h) = http.probe else { Issue.record("not http"); return }
        #expect(h.url.host == "example.org" && h.url.port == 8443 && h.url.target == "/health?x=1" && h.url.isTLS)
        #expect(h.expectStatus == 200 && h.bodyContains == "ok" && h.insecure && http.timeoutMs == 250)

        #expect(try spec(#"{"name":"u","kind":"systemd","unit":"nginx.service"}"#).probe == .systemd(.init(unit: "nginx.service")))
        #expect(try spec(#"{"name":"c","kind":"command","argv":["/bin/true","x"],"expect_exit":2}"#).probe
            == .command(.init(argv: ["/bin/true", "x"], expectExit: 2)))
        #expect(try spec(#"{"name":"p","kind":"process","process_name":"sshd"}"#).probe == .process(.init(match: .name("sshd"))))
        #expect(try spec(#"{"name":"p","kind":"process","pidfile":"/run/x.pid"}"#).probe == .process(.init(match: .pidfile("/run/x.pid"))))
        #expect(try spec(#"{"name":"f","kind":"file","path":"/etc/passwd","max_age_s":60,"sha256":"\#(String(repeating: "AB", count: 32))"}"#).probe
            == .file(.init(path: "/etc/passwd", maxAgeS: 60, sha256: String(repeating: "ab", count: 32))))
        #expect(try spec(#"{"name":"d","kind":"disk","path":"/","max_used_pct":90.5}"#).probe == .disk(.init(path: "/", maxUsedPct: 90.5)))
        #expect(try spec(#"{"name":"t","kind":"cert","host":"example.org"}"#).probe
            == .cert(.init(host: "example.org", port: 443, minDays: 14, serverName: nil)))
        #expect(try spec(#"{"name":"t","kind":"tcp","host":"[::1]","port":22}"#).target == "[::1]:22")
    }

    @Test func unknownField() {
        #expect(refusal(#"{"name":"web","kind":"tcp","host":"h","port":80,"colour":"red"}"#)
            == "probe 'web': field 'colour': unknown field")
    }

    @Test func wrongType() {
        #expect(refusal(#"{"name":"web","kind":"tcp","host":"h","port":"80"}"#)
            == "probe 'web': field 'port': expected an integer in 1...65535, found string")
        #expect(refusal(#"{"name":"web","kind":"http","url":"http://h/","insecure":"yes"}"#)
            == "probe 'web': field 'insecure': expected a boolean, found string")
        #expect(refusal(#"{"name":"web","kind":"command","argv":["/bin/true",3]}"#)
            == "probe 'web': field 'argv': expected a non-empty array of strings, found number at [1]")
        #expect(refusal(#"{"name":7,"kind":"tcp"}"#) == "field 'name': expected a string, found number")
        #expect(refusal(#"["name"]"#) == "expected an object, found array")
    }

    @Test func missingField() {
        #expect(refusal(#"{"name":"web","kind":"tcp","host":"h"}"#) == "probe 'web': field 'port': missing required field")
        #expect(refusal(#"{"kind":"tcp","host":"h","port":1}"#) == "field 'name': missing required field")
        #expect(refusal(#"{"name":"web","host":"h","port":1}"#) == "probe 'web': field 'kind': missing required field")
        #expect(refusal(#"{"name":"p","kind":"process"}"#) == "probe 'p': field 'process_name': missing required field (or give 'pidfile')")
    }

    @Test func badValues() {
        #expect(refusal(#"{"name":"web","kind":"tcp","host":"h","port":70000}"#) == "probe 'web': field 'port': expected an integer in 1...65535")
        #expect(refusal(#"{"name":"web","kind":"tcp","host":"h","port":0}"#) == "probe 'web': field 'port': expected an integer in 1...65535")
        #expect(refusal(#"{"name":"web","kind":"tcp","host":"h","port":80.5}"#) == "probe 'web': field 'port': expected an integer in 1...65535")
        #expect(refusal(#"{"name":"web","kind":"ftp"}"#)
            == "probe 'web': field 'kind': expected one of systemd, tcp, http, command, process, file, disk, cert, found 'ftp'")
        #expect(refusal(#"{"name":"web","kind":"http","url":"ftp://h/"}"#) == "probe 'web': field 'url': expected an http:// or https:// URL")
        #expect(refusal(#"{"name":"web","kind":"http","url":"http://u:p@h/"}"#) == "probe 'web': field 'url': user information in URLs is not supported")
        #expect(refusal(#"{"name":"web","kind":"http","url":"http://h:99999/"}"#) == "probe 'web': field 'url': port must be an integer in 1...65535")
        #expect(refusal(#"{"name":"web","kind":"http","url":"http://h/","expect_status":42}"#) == "probe 'web': field 'expect_status': expected an integer in 100...599")
        #expect(refusal(#"{"name":"c","kind":"command","argv":[]}"#) == "probe 'c': field 'argv': expected a non-empty array of strings")
        #expect(refusal(#"{"name":"f","kind":"file","path":"/x","sha256":"abc"}"#) == "probe 'f': field 'sha256': expected 64 hexadecimal digits")
        #expect(refusal(#"{"name":"f","kind":"file","path":"/x","max_age_s":-1}"#) == "probe 'f': field 'max_age_s': expected a positive number of seconds")
        #expect(refusal(#"{"name":"d","kind":"disk","path":"/","max_used_pct":120}"#) == "probe 'd': field 'max_used_pct': expected a number in 0...100")
        #expect(refusal(#"{"name":"p","kind":"process","process_name":"a","pidfile":"/b"}"#)
            == "probe 'p': field 'pidfile': give either 'process_name' or 'pidfile', not both")
        #expect(refusal(#"{"name":"w","kind":"tcp","host":"h","port":1,"timeout_ms":0}"#) == "probe 'w': field 'timeout_ms': expected an integer in 1...3600000")
        #expect(refusal(#"{"name":"f","kind":"file","path":"/x\u0000y"}"#) == "probe 'f': field 'path': must not contain NUL")
        #expect(refusal(#"{"name":"","kind":"file","path":"/x"}"#) == "field 'name': must not be empty")
    }

    @Test func fieldOfAnotherKind() {
        #expect(refusal(#"{"name":"web","kind":"tcp","host":"h","port":80,"url":"http://h/"}"#)
            == "probe 'web': field 'url': does not apply to kind 'tcp'")
        #expect(refusal(#"{"name":"d","kind":"disk","path":"/","max_used_pct":50,"sha256":null}"#)
            == "probe 'd': field 'sha256': does not apply to kind 'disk'")
    }
}

@Suite struct ProbeFileParsing {
    @Test func arrayAndObjectForms() throws {
        let a = try ProbeFile.parse(Array(#"[{"name":"a","kind":"file","path":"/x"},{"name":"b","kind":"tcp","host":"h","port":1}]"#.utf8))
        #expect(a.probes.map(\.name) == ["a", "b"])
        let o = try ProbeFile.parse(Array(#"{"probes":[{"name":"a","kind":"file","path":"/x"}]}"#.utf8))
        #expect(o.probes.map(\.kind) == [.file])
    }

    @Test func errorsCarryThePath() {
        let text = "{\"probes\": [\n {\"name\":\"a\",\"kind\":\"file\",\"path\":\"/x\"},\n {\"name\":\"db\",\"kind\":\"tcp\",\"host\":\"h\",\"port\":-1}\n]}"
        #expect(throws: ProbeSpecError(location: "probes[1]", probe: "db", field: "port", message: "expected an integer in 1...65535")) {
            try ProbeFile.parse(Array(text.utf8))
        }
        do {
            _ = try ProbeFile.parse(Array(text.utf8))
        } catch {
            #expect(error.description == "probes[1]: probe 'db': field 'port': expected an integer in 1...65535")
            #expect(error.fieldPath == "probes[1].port")
        }
        #expect(throws: ProbeSpecError(location: "[0]", probe: "a", field: "argv", message: "missing required field")) {
            try ProbeFile.parse(Array(#"[{"name":"a","kind":"command"}]"#.utf8))
        }
    }

    @Test func syntaxErrorsCarryLineAndColumn() {
        do {
            _ = try ProbeFile.parse(Array("[\n  {\"name\": \"a\",,}\n]".utf8))
            Issue.record("parsed")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 16)
            #expect(error.description == "line 2, column 16: expected a string key, found ','")
        }
    }

    @Test func wholeFileShape() {
        #expect(throws: ProbeSpecError(field: "probe", message: "unknown field (a probe file has only 'probes')")) {
            try ProbeFile.parse(Array(#"{"probe":[]}"#.utf8))
        }
        #expect(throws: ProbeSpecError(message: "expected an array of probes or an object with 'probes', found string")) {
            try ProbeFile.parse(Array(#""x""#.utf8))
        }
        #expect(throws: ProbeSpecError(location: "[1]", probe: "a", field: "name", message: "duplicate name (also at [0])")) {
            try ProbeFile.parse(Array(#"[{"name":"a","kind":"file","path":"/x"},{"name":"a","kind":"file","path":"/y"}]"#.utf8))
        }
    }
}

@Suite struct ProbeFlags {
    @Test func everyExampleParses() throws {
        for flag in ProbeSpec.flags {
            let s = try flag.parse(flag.example)
            #expect(s.kind == flag.kind)
            #expect(s.name == flag.example)
        }
        #expect(Set(ProbeSpec.flags.map(\.name)).count == ProbeSpec.flags.count)
        #expect(Set(ProbeSpec.flags.map(\.kind)) == Set(ProbeKind.allCases))
    }

    @Test func valuesBecomeFields() throws {
        #expect(try ProbeSpec.parseFlag("tcp", value: "127.0.0.1:8080").probe == .tcp(.init(host: "127.0.0.1", port: 8080)))
        #expect(try ProbeSpec.parseFlag("tcp", value: "[::1]:22").probe == .tcp(.init(host: "::1", port: 22)))
        #expect(try ProbeSpec.parseFlag("disk", value: "/:90").probe == .disk(.init(path: "/", maxUsedPct: 90)))
        #expect(try ProbeSpec.parseFlag("disk", value: "/var/lib:85.5%").probe == .disk(.init(path: "/var/lib", maxUsedPct: 85.5)))
        #expect(try ProbeSpec.parseFlag("cert", value: "example.org:8443:30").probe == .cert(.init(host: "example.org", port: 8443, minDays: 30)))
        #expect(try ProbeSpec.parseFlag("cert", value: "example.org").probe == .cert(.init(host: "example.org")))
        #expect(try ProbeSpec.parseFlag("command", value: #"["/bin/true"]"#).probe == .command(.init(argv: ["/bin/true"])))
        #expect(try ProbeSpec.parseFlag("unit", value: "nginx.service").probe == .systemd(.init(unit: "nginx.service")))
        #expect(try ProbeSpec.parseFlag("pidfile", value: "/run/a.pid").probe == .process(.init(match: .pidfile("/run/a.pid"))))
        let timed = try ProbeSpec.parseFlag("http", value: "http://127.0.0.1/", timeoutMs: 750)
        #expect(timed.timeoutMs == 750 && timed.name == "http://127.0.0.1/")
    }

    @Test func badValuesNameTheFlag() {
        func message(_ flag: String, _ value: String) -> String? {
            do {
                _ = try ProbeSpec.parseFlag(flag, value: value)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(message("tcp", "localhost") == "--tcp 'localhost': expected HOST:PORT (an IPv6 address in brackets: [::1]:80)")
        #expect(message("tcp", "::1:80") == "--tcp '::1:80': expected HOST:PORT (an IPv6 address in brackets: [::1]:80)")
        #expect(message("tcp", "db:http") == "--tcp 'db:http': expected HOST:PORT")
        #expect(message("tcp", "db:99999") == "--tcp 'db:99999': field 'port': expected an integer in 1...65535")
        #expect(message("disk", "/") == "--disk '/': expected PATH:MAX_USED_PCT")
        #expect(message("disk", "/:101") == "--disk '/:101': field 'max_used_pct': expected a number in 0...100")
        #expect(message("command", "/bin/true") == "--command '/bin/true': expected a JSON array of strings: column 1: unexpected '/', expected a value")
        #expect(message("command", #"{"a":1}"#) == #"--command '{"a":1}': field 'argv': expected a non-empty array of strings, found object"#)
        #expect(message("http", "example.org") == "--http 'example.org': field 'url': expected an http:// or https:// URL")
        #expect(message("ping", "x") == "--ping: not a probe flag")
    }
}

@Suite struct HTTPURLParsing {
    @Test func splitsURLs() throws {
        let u = try HTTPURL(parsing: "HTTP://[::1]:8080?q=1#frag")
        #expect(u.scheme == "http" && u.host == "::1" && u.port == 8080 && u.target == "/?q=1")
        #expect(u.hostHeader == "[::1]:8080")
        let d = try HTTPURL(parsing: "https://example.org")
        #expect(d.port == 443 && d.target == "/" && d.hostHeader == "example.org")
        #expect(throws: HTTPURL.ParseError(message: "missing host")) { try HTTPURL(parsing: "http:///x") }
        #expect(throws: HTTPURL.ParseError(message: "spaces and control characters must be percent-encoded")) {
            try HTTPURL(parsing: "http://h/a b")
        }
    }
}

@Suite struct CheckResultRecord {
    @Test func encodesAsACheckResultLine() throws {
        var r = CheckResult(name: "web", kind: "http", target: "http://h/", ok: false, latencyMs: 12.345, detail: "HTTP 503, expected 200")
        r.status = 503
        let line = String(decoding: try r.jsonLine(at: Timestamp(millisecondsSinceEpoch: 0)), as: UTF8.self)
        #expect(line == #"{"type":"check.result","ts":"1970-01-01T00:00:00.000Z","name":"web","kind":"http","target":"http://h/","ok":false,"latency_ms":12.345,"detail":"HTTP 503, expected 200","status":503}"#)
    }
}
