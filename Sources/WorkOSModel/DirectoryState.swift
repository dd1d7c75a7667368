/// The state of a WorkOS directory as the REST API reports it.
///
/// Only `linked` is healthy. Values WorkOS adds later are kept as `unknown`
/// and treated as unhealthy, so an unexpected state never disables anyone.
public enum DirectoryState: OpenWireValue {
    case linked
    case unlinked
    case validating
    case invalidCredentials
    case deleting
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "linked", "active": self = .linked
        case "unlinked", "inactive": self = .unlinked
        case "validating": self = .validating
        case "invalid_credentials": self = .invalidCredentials
        case "deleting": self = .deleting
        default: self = .unknown(rawValue)
        }
    }

    /// The wire value.
    public var rawValue: String {
        switch self {
        case .linked: "linked"
        case .unlinked: "unlinked"
        case .validating: "validating"
        case .invalidCredentials: "invalid_credentials"
        case .deleting: "deleting"
        case .unknown(let value): value
        }
    }

    /// Only a linked directory's listing may be used to disable accounts.
    public var isHealthy: Bool { self == .linked }
}

/// The state of a directory user. `suspended` is the legacy spelling of
/// `inactive`; unknown values are kept and count as not active.
public enum DirectoryUserState: OpenWireValue {
    case active
    case inactive
    case suspended
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "active": self = .active
        case "inactive": self = .inactive
        case "suspended": self = .suspended
        default: self = .unknown(rawValue)
        }
    }

    /// The wire value.
    public var rawValue: String {
        switch self {
        case .active: "active"
        case .inactive: "inactive"
        case .suspended: "suspended"
        case .unknown(let value): value
        }
    }

    /// Only `active` grants access; everything else deprovisions.
    public var isActive: Bool { self == .active }
}

/// A WorkOS enum that keeps values it does not know (`unknown(String)`)
/// instead of failing to decode: it is coded as its wire string and printed as it.
public protocol OpenWireValue: Sendable, Hashable, Codable, CustomStringConvertible {
    init(rawValue: String)
    var rawValue: String { get }
}

extension OpenWireValue {
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
