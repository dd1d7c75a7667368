public import WorkOSModel

/// Which WorkOS user states deprovision (`deprovisioning.keep_active_states`,
/// globally and per directory).
///
/// By default every state but `active` disables the account (reason
/// `inactive`). HRIS directories report states of their own (e.g.
/// `on_leave`): a state listed here keeps the account active instead.
/// `inactive` and `suspended` always disable (`Settings` refuses them here).
public struct DeprovisioningPolicy: Sendable, Hashable {
    /// States that keep access in every directory. Default none.
    public var keepActiveStates: Set<String>
    /// Per directory id: states that keep access in that directory, replacing
    /// `keepActiveStates` for it. Default none.
    public var keepActiveStatesByDirectory: [String: Set<String>]

    public init(keepActiveStates: Set<String> = [], keepActiveStatesByDirectory: [String: Set<String>] = [:]) {
        self.keepActiveStates = keepActiveStates
        self.keepActiveStatesByDirectory = keepActiveStatesByDirectory
    }

    /// The states that always disable, whatever the configuration says.
    public static let alwaysDisabling: Set<String> = ["inactive", "suspended"]

    /// Whether a user in `state` keeps (or gets back) an active account in the directory.
    public func grantsAccess(_ state: DirectoryUserState, directoryID: String) -> Bool {
        if state.isActive { return true }
        if Self.alwaysDisabling.contains(state.rawValue) { return false }
        return (keepActiveStatesByDirectory[directoryID] ?? keepActiveStates).contains(state.rawValue)
    }

    /// Whether some configuration could keep a user in `state` active: false
    /// only for the states that always disable. For readers that have no policy
    /// at hand and must not miss an account the planner may reactivate.
    public static func mayGrantAccess(_ state: DirectoryUserState) -> Bool {
        !alwaysDisabling.contains(state.rawValue)
    }
}
