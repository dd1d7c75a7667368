public import Foundation
public import WorkOSModel

/// How a new account gets its person (`users` row).
public enum LinkDecision: Sendable, Hashable {
    /// No person has this email: create one.
    case newPerson
    /// Exactly one person has this email (case-insensitive): link to it.
    case existingPerson(UUID)
    /// The account cannot be linked safely: record a `link_conflicts` row
    /// with the reason and leave the account unlinked for an admin.
    case conflict(candidates: [UUID], reason: LinkConflictReason)
}

/// Why a new account waits in `link_conflicts` (the `reason` column).
public enum LinkConflictReason: String, Sendable, Hashable, Codable {
    /// Several persons (or several new accounts) share the email.
    case ambiguous
    /// The only person with the email has an account in another organization's
    /// directory, and the email is not in this organization's domains: one
    /// customer's directory never links another customer's person.
    case otherOrganization = "other_organization"
    /// The user took the `idp_id` of a disabled account whose email and name
    /// differ: a new person, never the old one's history and ownership.
    case idpIDReused = "idp_id_reused"
    /// The linked person has an active account in another organization, whose
    /// email and names this directory may not change (recorded by the store).
    case profileElsewhere = "profile_elsewhere"
}

/// A change in an account's email, kept in `email_history`.
public struct EmailChange: Sendable, Hashable {
    public var old: String?
    public var new: String?
}

/// An account row to insert or rewrite, with the listing's values.
public struct AccountWrite: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A new account.
        case create(LinkDecision)
        /// Changed fields; the status stays what it is.
        case update
        /// A disabled account comes back active (same WorkOS id, or a rehire
        /// under a new WorkOS id with the same `idp_id`).
        case reactivate
    }

    public var kind: Kind
    /// The stored account, nil for a create.
    public var accountID: UUID?
    public var user: DirectoryUser
    /// WorkOS ids of the account's groups, sorted (a view into the prepared listing's one array).
    public var groupIDs: SortedGroupIDs
    public var fingerprint: Fingerprint
    /// Set when the email differs from the stored one.
    public var emailChange: EmailChange?
    /// The stored WorkOS id when the listing carries a new one (rehire).
    public var previousWorkOSID: String?
    /// True for a new account (its groups are all added with it).
    public var isCreate: Bool {
        if case .create = kind { true } else { false }
    }
    /// For a create: the status the account starts with (the planner decides
    /// it from the user's state and `DeprovisioningPolicy`).
    public var initialStatus: AccountStatus = .active
}

/// An active account absent from this complete listing that the absence
/// debounce (`guard.missing_after_listings`) does not disable yet.
public struct PendingAbsence: Sendable, Hashable, Comparable {
    public var accountID: UUID
    public var workosID: String
    public var email: String?
    /// Consecutive complete listings it is absent from, this one included.
    public var absences: Int
    /// Absences that disable it (`guard.missing_after_listings`).
    public var needed: Int
    /// The last complete listing that contained it, when recorded at an earlier absence.
    public var lastListedRunID: Int64?

    public static func < (lhs: PendingAbsence, rhs: PendingAbsence) -> Bool {
        (lhs.workosID, lhs.accountID.uuidString) < (rhs.workosID, rhs.accountID.uuidString)
    }
}

/// How an admin (or a run) ended a link conflict (`link_conflicts.resolution`).
public enum ConflictResolution: String, Sendable, Hashable, Codable {
    /// An admin linked the account to an existing person.
    case linked
    /// An admin made the account a new person.
    case newPerson = "new_person"
    /// A run found exactly one person with the account's email (the ambiguity ended) and linked it.
    case selfResolved = "self_resolved"
}

/// An account of a link conflict pointed at its person, with why.
public struct ConflictLink: Sendable, Hashable {
    /// Which person the account gets.
    public enum Target: Sendable, Hashable {
        case existingPerson(UUID)
        /// A new person made from the account's email and names.
        case newPerson
    }

    public var accountID: UUID
    public var workosID: String
    public var target: Target
    public var resolution: ConflictResolution
    /// Who resolved it (`link_conflicts.resolved_by`); nil for a run.
    public var resolvedBy: String?

    public init(accountID: UUID, workosID: String, target: Target, resolution: ConflictResolution, resolvedBy: String? = nil) {
        self.accountID = accountID
        self.workosID = workosID
        self.target = target
        self.resolution = resolution
        self.resolvedBy = resolvedBy
    }
}

/// An account to disable, with its reason.
public struct AccountDisable: Sendable, Hashable, Comparable {
    public var accountID: UUID
    public var workosID: String
    public var email: String?
    public var reason: DisableReason
    /// For a `missing` account already absent from an earlier complete
    /// listing: the last complete listing that contained it.
    public var lastListedRunID: Int64?

    /// Only the planner and the directory-removed rule create disables, from a
    /// complete listing or an explicit policy.
    init(account: StoredAccount, reason: DisableReason) {
        accountID = account.id
        workosID = account.workosID
        email = account.email
        self.reason = reason
        lastListedRunID = account.lastListedRunID
    }

    public static func < (lhs: AccountDisable, rhs: AccountDisable) -> Bool {
        (lhs.workosID, lhs.accountID.uuidString) < (rhs.workosID, rhs.accountID.uuidString)
    }
}

/// A group row to insert or rewrite.
public struct GroupWrite: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case create, update }
    public var kind: Kind
    public var groupID: UUID?
    public var group: DirectoryGroup
    public var fingerprint: Fingerprint
}

/// A membership by WorkOS ids.
public struct Membership: Sendable, Hashable, Comparable {
    public var groupWorkOSID: String
    public var userWorkOSID: String

    public init(groupWorkOSID: String, userWorkOSID: String) {
        self.groupWorkOSID = groupWorkOSID
        self.userWorkOSID = userWorkOSID
    }

    public static func < (lhs: Membership, rhs: Membership) -> Bool {
        (lhs.groupWorkOSID, lhs.userWorkOSID) < (rhs.groupWorkOSID, rhs.userWorkOSID)
    }
}

/// Everything one run would change in one directory, each item with its
/// reason, plus the safety verdict. A value: printing it is `plan`, applying
/// it is `sync`.
public struct Plan: Sendable, Hashable {
    public var directory: Directory
    public var accountWrites: [AccountWrite] = []
    public var disables: [AccountDisable] = []
    public var groupWrites: [GroupWrite] = []
    public var groupRemovals: [StoredGroup] = []
    /// Memberships to add to accounts that already exist, sorted. A new
    /// account's memberships are its write's `groupIDs` and are not repeated
    /// here: a first sync of 1M users would otherwise hold ~5M `Membership`
    /// values (and their sort) on top of the writes that already name them.
    public var existingAccountMembershipAdds: [Membership] = []
    public var membershipRemovals: [Membership] = []
    public var verdict: SafetyVerdict = .proceed
    /// Disables a hold lets through: explicit deactivations (`inactive`)
    /// within the guard's threshold still apply while a mass set of `missing`
    /// disables is held. Empty unless the verdict holds.
    public var sparedFromHold: Set<DisableReason> = []
    /// Users in the listing the plan came from.
    public var listedUsers: Int = 0
    /// Groups in the listing the plan came from.
    public var listedGroups: Int = 0
    /// Accounts of purged (anonymised) persons whose WorkOS user is active
    /// again: they stay anonymous and give their WorkOS id to the new account.
    public var purgedAccountsReturning: [UUID] = []
    /// True for the plan of a directory that vanished from `GET /directories`.
    public var directoryRemoved = false
    /// Users the plan leaves alone, with their reasons.
    public var quarantine = Quarantine()
    /// Accounts missing from the listing not disabled this run because a
    /// record without an id was quarantined (see `Quarantine`).
    public var missingDisablesWithheld = 0
    /// Hybrid mode's cross-check: `missing` disables of accounts whose
    /// deletion or deactivation the event feed never reported. Nil when the
    /// cross-check is off (`full` mode, or no events cursor yet).
    public var unexplainedDisappearances: Int?
    /// Active accounts absent from this listing that the absence debounce
    /// does not disable yet; applying the plan counts the absence.
    public var pendingAbsences: [PendingAbsence] = []
    /// Unlinked accounts of link conflicts to point at a person: the run's
    /// own (the ambiguity ended) or an admin's (`conflicts resolve`).
    public var conflictLinks: [ConflictLink] = []

    public init(directory: Directory) {
        self.directory = directory
    }

    /// True when applying the plan would change nothing.
    public var isEmpty: Bool {
        accountWrites.isEmpty && disables.isEmpty && groupWrites.isEmpty && groupRemovals.isEmpty && purgedAccountsReturning.isEmpty
            && existingAccountMembershipAdds.isEmpty && membershipRemovals.isEmpty && pendingAbsences.isEmpty
            && conflictLinks.isEmpty
    }

    /// The writes that create accounts.
    public var newAccountWrites: LazyFilterSequence<[AccountWrite]> { accountWrites.lazy.filter(\.isCreate) }

    /// The memberships of the plan's new accounts (their writes' `groupIDs`),
    /// computed as they are read.
    public var newAccountMembershipAdds: some Sequence<Membership> {
        newAccountWrites.flatMap { write in
            write.groupIDs.lazy.map { Membership(groupWorkOSID: $0, userWorkOSID: write.user.id) }
        }
    }

    /// Every membership the plan adds, sorted: new accounts' groups and
    /// existing accounts' new groups (for printing and tests; the store
    /// streams the two parts).
    public var membershipAdds: [Membership] {
        (Array(newAccountMembershipAdds) + existingAccountMembershipAdds).sorted()
    }

    /// How many memberships the plan adds.
    public var membershipAddCount: Int {
        newAccountWrites.reduce(existingAccountMembershipAdds.count) { $0 + $1.groupIDs.count }
    }

    /// The disables that apply now: all of them, or while a hold is on only
    /// those of a reason the hold spares.
    public var disablesToApply: [AccountDisable] {
        verdict.holdsDisables ? disables.filter { sparedFromHold.contains($0.reason) } : disables
    }

    /// The disables the hold stops (they wait in `held_plans` for `approve`).
    public var heldDisables: [AccountDisable] {
        verdict.holdsDisables ? disables.filter { !sparedFromHold.contains($0.reason) } : []
    }

    /// Counts by kind of change, for logs, `sync_runs.counts` and metrics.
    public var summary: PlanSummary {
        var summary = PlanSummary()
        for write in accountWrites {
            switch write.kind {
            case .create: summary.creates += 1
            case .update: summary.updates += 1
            case .reactivate: summary.reactivations += 1
            }
            if write.emailChange != nil { summary.emailChanges += 1 }
        }
        summary.held = heldDisables.count
        summary.disables = disablesToApply.count
        summary.groupChanges = groupWrites.count + groupRemovals.count
        summary.membershipChanges = membershipAddCount + membershipRemovals.count
        summary.quarantined = quarantine.records.count
        summary.unexplained = unexplainedDisappearances
        summary.pendingAbsences = pendingAbsences.count
        summary.links = conflictLinks.count
        return summary
    }
}

/// Counts of a plan's changes by kind.
public struct PlanSummary: Sendable, Hashable, Codable {
    public var creates = 0
    public var updates = 0
    public var emailChanges = 0
    public var reactivations = 0
    public var disables = 0
    public var held = 0
    public var groupChanges = 0
    public var membershipChanges = 0
    /// Listed users left alone (see `Quarantine`).
    public var quarantined = 0
    /// `missing` disables the event feed does not explain (nil: the cross-check is off).
    public var unexplained: Int?
    /// Absent accounts the debounce does not disable yet (`guard.missing_after_listings`).
    public var pendingAbsences = 0
    /// Link conflicts resolved by linking the account.
    public var links = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case creates, updates, reactivations, disables, held, quarantined, unexplained, links
        case pendingAbsences = "pending_absences"
        case emailChanges = "email_changes"
        case groupChanges = "group_changes"
        case membershipChanges = "membership_changes"
    }

    /// One line: "2 creates, 1 update, 3 disables held, 1 quarantined".
    public var line: String {
        let parts: [(Int, String)] = [
            (creates, "create"), (updates, "update"), (emailChanges, "email change"),
            (reactivations, "reactivation"), (disables, "disable"), (groupChanges, "group change"),
            (membershipChanges, "membership change"),
        ]
        var words = parts.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)\($0.0 == 1 ? "" : "s")" }
        if held > 0 { words.append("\(held) disable\(held == 1 ? "" : "s") held") }
        if words.isEmpty { words.append("no changes") }
        if quarantined > 0 { words.append("\(quarantined) quarantined") }
        if let unexplained, unexplained > 0 { words.append("\(unexplained) unexplained by the event feed") }
        if pendingAbsences > 0 { words.append("\(pendingAbsences) absent, not disabled yet") }
        if links > 0 { words.append("\(links) link conflict\(links == 1 ? "" : "s") resolved") }
        return words.joined(separator: ", ")
    }
}
