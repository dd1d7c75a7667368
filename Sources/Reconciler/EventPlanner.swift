public import Foundation
public import WorkOSModel

/// What the store reads about one event before it is planned: the stored
/// rows the event can touch, and the guard's window.
public struct EventSlice: Sendable, Hashable {
    /// The stored directory (nil: not synced yet, the full reconcile creates it).
    public var directory: Directory?
    /// Accounts of the directory with the event user's WorkOS id or `idp_id`.
    public var accounts: [StoredAccount] = []
    /// `workos_updated_at` of those accounts, by account id.
    public var accountUpdatedAt: [UUID: Date] = [:]
    /// WorkOS ids of the groups (not removed) each of those accounts is a member of, by account WorkOS id.
    public var memberships: [String: Set<String>] = [:]
    /// The stored groups those memberships, or the event's group, name.
    public var groups: [StoredGroup] = []
    /// `workos_updated_at` of those groups, by group id.
    public var groupUpdatedAt: [UUID: Date] = [:]
    /// WorkOS ids of the stored members of the event's group (group events).
    public var groupMembers: [String] = []
    /// Persons that a new account could be linked to by email.
    public var linkCandidates: [LinkCandidate] = []
    public var organizationDomains: Set<String> = []
    /// Active accounts of the directory (the guard's base).
    public var activeAccounts = 0
    /// Accounts disabled by events within the guard's sliding window.
    public var recentEventDisables = 0
    /// The accounts of the directory's plan waiting for `approve`, if any.
    public var heldAccounts: [HeldAccount] = []

    public init(directory: Directory?) {
        self.directory = directory
    }
}

/// What to do with one event.
public enum EventDecision: Sendable, Hashable {
    /// Apply this plan (it never records a complete listing).
    case apply(Plan)
    /// Nothing to change; the reason is logged at debug level.
    case skip(String)
    /// Reconcile the directory from a complete listing (`dsync.activated`, `dsync.deleted`).
    case reconcileDirectory(String)
}

/// The pure planner of one WorkOS event against the stored rows it touches.
///
/// It reuses the full planner's pieces, so an event decides exactly what a
/// listing showing the same user would: a user event is planned as a listing
/// of that one user (with the account's stored groups) against the accounts
/// that share its WorkOS id or `idp_id`, minus anything only a complete
/// listing may decide (`missing` disables, group removals). Rules:
/// - `dsync.user.deleted` disables the account at once, reason `missing`
///   (what the next complete listing would decide; the trail is the same).
/// - `dsync.user.updated` to a non-active state disables it, reason `inactive`.
/// - Never overwrite newer data: a user or group whose `updated_at` is not
///   later than the stored `workos_updated_at` is skipped, which makes a replay a no-op.
/// - The guard: disables by events within the sliding window beyond
///   `SafetyPolicy.threshold` are held in the directory's held plan (merged
///   with the accounts it already holds), for `approve`.
public enum EventPlanner {
    public static func plan(_ event: DirectoryEvent, slice: EventSlice, policy: SafetyPolicy) -> EventDecision {
        switch event {
        case .directoryActivated(let id), .directoryDeleted(let id):
            return .reconcileDirectory(id)
        default:
            break
        }
        guard let directory = slice.directory else { return .skip("directory \(event.directoryID) is not synced yet") }
        guard directory.id == event.directoryID else { return .skip("the event's directory is not the stored one") }
        guard directory.state.isHealthy else { return .skip("directory state is \(directory.state.rawValue), not linked") }
        var plan: Plan
        switch event {
        case .userCreated(let user), .userUpdated(let user):
            guard let planned = planUser(user, directory: directory, slice: slice, policy: policy) else {
                return .skip("not newer than the stored account")
            }
            plan = planned
        case .userDeleted(let user):
            guard let account = slice.accounts.first(where: { $0.workosID == user.id }), account.status == .active,
                !account.isAnonymized
            else { return .skip("no active account with this WorkOS id") }
            plan = Plan(directory: directory)
            plan.disables = [AccountDisable(account: account, reason: .missing)]
        case .groupCreated(let group), .groupUpdated(let group):
            plan = Plan(directory: directory)
            let fingerprint = Fingerprint.of(group: group)
            if let stored = slice.groups.first(where: { $0.workosID == group.id }) {
                if let storedAt = slice.groupUpdatedAt[stored.id], let eventAt = group.updatedAt, eventAt <= storedAt {
                    return .skip("the stored group is as new or newer")
                }
                guard stored.fingerprint != fingerprint || stored.isRemoved else { return .skip("group unchanged") }
                plan.groupWrites = [GroupWrite(kind: .update, groupID: stored.id, group: group, fingerprint: fingerprint)]
            } else {
                plan.groupWrites = [GroupWrite(kind: .create, groupID: nil, group: group, fingerprint: fingerprint)]
            }
        case .groupDeleted(let group):
            guard let stored = slice.groups.first(where: { $0.workosID == group.id && !$0.isRemoved }) else {
                return .skip("no stored group with this WorkOS id")
            }
            plan = Plan(directory: directory)
            plan.groupRemovals = [stored]
            // WorkOS sends no `user_removed` for the members of a deleted group.
            plan.membershipRemovals = slice.groupMembers.sorted().map { Membership(groupWorkOSID: group.id, userWorkOSID: $0) }
        case .userAddedToGroup(let user, let group), .userRemovedFromGroup(let user, let group):
            guard let account = slice.accounts.first(where: { $0.workosID == user.id }) else { return .skip("no account with this WorkOS id") }
            guard slice.groups.contains(where: { $0.workosID == group.id && !$0.isRemoved }) else { return .skip("no stored group with this WorkOS id") }
            let member = slice.memberships[account.workosID]?.contains(group.id) ?? false
            plan = Plan(directory: directory)
            let membership = Membership(groupWorkOSID: group.id, userWorkOSID: user.id)
            if case .userAddedToGroup = event {
                guard !member else { return .skip("already a member") }
                plan.existingAccountMembershipAdds = [membership]
            } else {
                guard member else { return .skip("not a member") }
                plan.membershipRemovals = [membership]
            }
        case .directoryActivated, .directoryDeleted:
            return .skip("handled above")
        }
        guard !plan.isEmpty else { return .skip("nothing to change") }
        plan.verdict = verdict(newDisables: plan.disables.count, slice: slice, policy: policy)
        if plan.verdict.holdsDisables {
            // The held plan names every account held so far: one `approve` releases them all.
            let new = Set(plan.disables.map(\.accountID))
            plan.disables += slice.heldAccounts.filter { !new.contains($0.accountID) }.map(AccountDisable.init(held:))
            plan.disables.sort()
        }
        return .apply(plan)
    }

    /// The guard over the sliding window: held when the disables by events in
    /// the window plus these exceed `max(min_users, fraction × active accounts)`.
    public static func verdict(newDisables: Int, slice: EventSlice, policy: SafetyPolicy) -> SafetyVerdict {
        guard newDisables > 0 else { return .proceed }
        let threshold = policy.threshold(activeAccounts: slice.activeAccounts)
        let total = slice.recentEventDisables + newDisables
        guard total > threshold else { return .proceed }
        return .hold(.massDisable(disables: total, threshold: threshold, activeAccounts: slice.activeAccounts))
    }

    /// A user created or updated, planned as a listing of that one user.
    /// Nil when the stored account is as new or newer (`updated_at`).
    private static func planUser(_ user: DirectoryUser, directory: Directory, slice: EventSlice, policy: SafetyPolicy) -> Plan? {
        guard user.directoryID == directory.id else { return nil }
        let byID = slice.accounts.first { $0.workosID == user.id }
        if let byID, let stored = slice.accountUpdatedAt[byID.id], let listed = user.updatedAt, listed <= stored { return nil }
        let target = byID ?? slice.accounts.first { !user.idpID.isEmpty && $0.idpID == user.idpID && !$0.isAnonymized }
        // The account keeps its stored groups: a user event says nothing about memberships.
        let groupIDs = target.map { slice.memberships[$0.workosID] ?? [] } ?? []
        let groups = slice.groups.filter { groupIDs.contains($0.workosID) && !$0.isRemoved }
        let snapshot = DirectorySnapshot(
            directory: directory, users: [user],
            groups: groups.map {
                DirectoryGroup(id: $0.workosID, directoryID: directory.id, organizationID: directory.organizationID, idpID: $0.idpID, name: $0.name)
            },
            memberships: Dictionary(uniqueKeysWithValues: groups.map { ($0.workosID, [user.id]) }))
        let stored = StoredState(
            directoryID: directory.id, accounts: slice.accounts, groups: groups, memberships: slice.memberships,
            linkCandidates: slice.linkCandidates, organizationDomains: slice.organizationDomains)
        guard var plan = try? Planner.plan(snapshot: snapshot, stored: stored, policy: policy) else { return nil }
        // Only a complete listing decides that an account is missing or a group gone.
        plan.disables.removeAll { $0.reason != .inactive }
        plan.groupWrites = []
        plan.groupRemovals = []
        plan.missingDisablesWithheld = 0
        plan.pendingAbsences = []
        plan.sparedFromHold = []
        plan.verdict = .proceed
        plan.listedUsers = 0
        plan.listedGroups = 0
        return plan
    }
}

extension AccountDisable {
    /// An account of a held plan, held again with the new disables.
    init(held: HeldAccount) {
        accountID = held.accountID
        workosID = held.workosID
        email = held.email
        reason = held.reason
        lastListedRunID = nil
    }
}
