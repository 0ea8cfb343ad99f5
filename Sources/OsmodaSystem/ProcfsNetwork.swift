#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One entry of `getifaddrs(3)`: an interface, its flags, and one address of it.
package struct InterfaceAddressEntry: Sendable, Equatable {
    package enum Family: String, Sendable, Equatable { case ipv4, ipv6, other }
    package var name: String
    /// `IFF_*` flags of the interface.
    package var flags: UInt32
    package var family: Family
    /// The address in its usual text form; `nil` for families other than IPv4/IPv6.
    package var address: String?
    /// Bits set in the netmask; `nil` when there is none.
    package var prefixLength: Int?

    package init(name: String, flags: UInt32, family: Family, address: String?, prefixLength: Int?) {
        self.name = name
        self.flags = flags
        self.family = family
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Whether the interface is administratively up (`IFF_UP`).
    package var isUp: Bool { flags & UInt32(IFF_UP) != 0 }
}

extension Procfs {
    /// The `IFF_UP` flag, for tests that build entries by hand.
    package static var interfaceUpFlag: UInt32 { UInt32(IFF_UP) }

    /// Every interface address, from `getifaddrs(3)`. Interfaces without an IP
    /// address still appear once (with their link-layer entry, family `.other`).
    package static func interfaceAddresses() throws(SystemError) -> [InterfaceAddressEntry] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else { throw SystemError("getifaddrs") }
        defer { freeifaddrs(head) }
        var out: [InterfaceAddressEntry] = []
        var cursor = head
        while let ifa = cursor {
            cursor = ifa.pointee.ifa_next
            let name = String(cString: ifa.pointee.ifa_name)
            let flags = UInt32(ifa.pointee.ifa_flags)
            guard let addr = ifa.pointee.ifa_addr else {
                out.append(InterfaceAddressEntry(name: name, flags: flags, family: .other, address: nil, prefixLength: nil))
                continue
            }
            switch Int32(addr.pointee.sa_family) {
            case AF_INET:
                let a = addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                let bytes = withUnsafeBytes(of: a) { Array($0) }
                var prefix: Int?
                if let m = ifa.pointee.ifa_netmask {
                    let mask = m.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    prefix = withUnsafeBytes(of: mask) { $0.reduce(0) { $0 + $1.nonzeroBitCount } }
                }
                out.append(InterfaceAddressEntry(name: name, flags: flags, family: .ipv4, address: formatAddress(bytes), prefixLength: prefix))
            case AF_INET6:
                let a = addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                let bytes = withUnsafeBytes(of: a) { Array($0) }
                var prefix: Int?
                if let m = ifa.pointee.ifa_netmask {
                    let mask = m.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    prefix = withUnsafeBytes(of: mask) { $0.reduce(0) { $0 + $1.nonzeroBitCount } }
                }
                out.append(InterfaceAddressEntry(name: name, flags: flags, family: .ipv6, address: formatAddress(bytes), prefixLength: prefix))
            default:
                out.append(InterfaceAddressEntry(name: name, flags: flags, family: .other, address: nil, prefixLength: nil))
            }
        }
        return out
    }

    /// An IPv4 (4 bytes) or IPv6 (16 bytes) address in network order as text, with
    /// `inet_ntop(3)`: dotted quad, or RFC 5952 form for IPv6. `nil` for other lengths.
    package static func formatAddress(_ bytes: [UInt8]) -> String? {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok = bytes.withUnsafeBytes { src in
            inet_ntop(family, src.baseAddress, &text, socklen_t(text.count)) != nil
        }
        guard ok else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
