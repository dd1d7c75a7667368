public import Foundation

/// Whether an account (or a person) may sign in.
public enum AccountStatus: String, Sendable, Hashable, Codable {
    case active
    case disabled
}

/// Why an account was disabled. The raw values are the `disabled_reason` and
/// event `reason` column values of the schema contract.
public enum DisableReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// WorkOS reports the user with a `state` other than `active`.
    case inactive
    /// The user is absent from a complete listing (WorkOS deletes leavers by default).
    case missing
    /// The whole directory vanished from `GET /directories`.
    case directoryRemoved = "directory_removed"
}

/// One stored directory account, in the compact form the planner needs.
public struct StoredAccount: Sendable, Hashable {
    /// `directory_users.id`.
    public var id: UUID
    public var workosID: String
    public var idpID: String
    /// The linked person (`users.id`); nil while a link conflict waits for an admin.
    public var userID: UUID?
    public var email: String?
    public var status: AccountStatus
    public var disabledReason: DisableReason?
    /// Nil when the stored text is not a fingerprint of this version: the account is rewritten.
    public var fingerprint: Fingerprint?
    /// First and last name, loaded for disabled accounts only: a new WorkOS
    /// user with a disabled account's `idp_id` reactivates it only when the
    /// email or the name also matches.
    public var firstName: String?
    public var lastName: String?
    /// True when a purge anonymised the account's person: it is never
    /// reactivated or rewritten; a rehire comes back as a new person.
    public var isAnonymized: Bool
    /// The last complete listing that contained the account (`sync_runs.id`),
    /// recorded when it first went missing; nil while it is listed.
    public var lastListedRunID: Int64?
    /// Consecutive complete listings the account has been absent from
    /// (`directory_users.missing_listings`, the absence debounce); 0 while listed.
    public var missingListings: Int

    public init(
        id: UUID, workosID: String, idpID: String, userID: UUID?, email: String?,
        status: AccountStatus, disabledReason: DisableReason? = nil, fingerprint: Fingerprint?,
        firstName: String? = nil, lastName: String? = nil, isAnonymized: Bool = false, lastListedRunID: Int64? = nil,
        missingListings: Int = 0
    ) {
        self.missingListings = missingListings
        self.id = id
        self.workosID = workosID
        self.idpID = idpID
        self.userID = userID
        self.email = email
        self.status = status
        self.disabledReason = disabledReason
        self.fingerprint = fingerprint
        self.firstName = firstName
        self.lastName = lastName
        self.isAnonymized = isAnonymized
        self.lastListedRunID = lastListedRunID
    }
}

/// One stored directory group.
public struct StoredGroup: Sendable, Hashable {
    public var id: UUID
    public var workosID: String
    public var idpID: String
    public var name: String
    /// Nil when the stored text is not a fingerprint of this version: the group is rewritten.
    public var fingerprint: Fingerprint?
    public var isRemoved: Bool

    public init(id: UUID, workosID: String, idpID: String, name: String, fingerprint: Fingerprint?, isRemoved: Bool = false) {
        self.id = id
        self.workosID = workosID
        self.idpID = idpID
        self.name = name
        self.fingerprint = fingerprint
        self.isRemoved = isRemoved
    }
}

/// A person that a new account could be linked to by email.
public struct LinkCandidate: Sendable, Hashable {
    public var userID: UUID
    /// Lower-cased email of the person.
    public var email: String
    /// True when the person has an account in a directory of another
    /// organization: then only an email in this organization's domains links.
    public var belongsToOtherOrganization: Bool

    public init(userID: UUID, email: String, belongsToOtherOrganization: Bool = false) {
        self.userID = userID
        self.email = email
        self.belongsToOtherOrganization = belongsToOtherOrganization
    }
}

/// What PostgreSQL holds for one directory, loaded compactly for planning.
public struct StoredState: Sendable, Hashable {
    public var directoryID: String
    public var accounts: [StoredAccount]
    public var groups: [StoredGroup]
    /// Account WorkOS id → WorkOS ids of the groups it is a member of. The
    /// store fills it for `Planner.storedRowsNeeded` only: the
    /// accounts the plan writes, the only ones it compares.
    public var memberships: [String: Set<String>]
    /// Persons without an account in this directory, for 1:1 linking by email.
    public var linkCandidates: [LinkCandidate]
    /// The organization's email domains, lower-cased: the `domain` of each of
    /// its directories (the planner adds the listed directory's own).
    public var organizationDomains: Set<String>
    /// What the event feed reported about this directory (hybrid mode); nil
    /// when the cross-check is off (`full` mode, or no events cursor yet).
    public var eventFeed: EventFeedHistory?

    public init(
        directoryID: String, accounts: [StoredAccount] = [], groups: [StoredGroup] = [],
        memberships: [String: Set<String>] = [:], linkCandidates: [LinkCandidate] = [],
        organizationDomains: Set<String> = []
    ) {
        self.directoryID = directoryID
        self.accounts = accounts
        self.groups = groups
        self.memberships = memberships
        self.linkCandidates = linkCandidates
        self.organizationDomains = organizationDomains
    }

    /// Accounts that currently grant access.
    public var activeAccountCount: Int { accounts.lazy.filter { $0.status == .active }.count }
}

/// What `Planner.storedRowsNeeded` asks the store to read for one listing.
public struct StoredRowsNeeded: Sendable, Hashable {
    /// Accounts (`directory_users.id`) whose group memberships the plan compares.
    public var membershipsOf: [UUID] = []
    /// Emails of listed users without an account, for linking by email.
    public var linkEmails: [String] = []

    public init() {}
}

/// What the events poller learnt from the WorkOS event feed about one
/// directory, for the cross-check of a full reconcile's `missing` disables.
public struct EventFeedHistory: Sendable, Hashable {
    /// Accounts whose deletion or deactivation the feed reported within its
    /// retention (applied by the poller, or held by the guard).
    public var explainedAccounts: Set<UUID>
    /// True when the feed's `dsync.deleted` for the directory was applied
    /// (and no `dsync.activated` since): only then does
    /// `guard.on_directory_removed: disable` disable a vanished directory's accounts.
    public var directoryDeletionConfirmed: Bool

    public init(explainedAccounts: Set<UUID> = [], directoryDeletionConfirmed: Bool = false) {
        self.explainedAccounts = explainedAccounts
        self.directoryDeletionConfirmed = directoryDeletionConfirmed
    }
}
