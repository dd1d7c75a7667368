public import Foundation
public import WorkOSModel

/// A listing the planner refuses to act on: an inconsistency, not a guess.
/// (A bad user record is not one: it is quarantined, see `Quarantine`.)
public enum PlanningError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A group of the listing belongs to another directory.
    case foreignObject(id: String, directoryID: String)

    public var description: String {
        switch self {
        case .foreignObject(let id, let directoryID):
            "the listing contains \(id) of directory \(directoryID); nothing applied"
        }
    }
}

/// The pure planner: a complete snapshot and the stored state in, a `Plan` out.
///
/// No I/O, clock or logger. Identity is the WorkOS id first, then
/// (`directory_id`, `idp_id`), so a rehire under a new WorkOS id reactivates
/// the existing account instead of creating a duplicate.
public enum Planner {
    /// Plans one directory from a complete listing. Only this function (and
    /// `planDirectoryRemoved`) can produce disables, and it needs a
    /// `DirectorySnapshot`, which only exists when every page arrived.
    public static func plan(
        snapshot: DirectorySnapshot, stored: StoredState, policy: SafetyPolicy
    ) throws(PlanningError) -> Plan {
        try plan(PreparedListing(snapshot), stored: stored, policy: policy)
    }

    /// Plans one directory from a prepared complete listing (see `PreparedListing`).
    public static func plan(
        _ listing: PreparedListing, stored: StoredState, policy: SafetyPolicy
    ) throws(PlanningError) -> Plan {
        let snapshot = listing.snapshot
        var plan = Plan(directory: snapshot.directory)
        plan.listedUsers = snapshot.users.count
        plan.listedGroups = snapshot.groups.count

        let quarantine = try checkConsistency(snapshot)
        plan.quarantine = quarantine
        let matching = match(listing, to: stored.accounts)
        let matchOfUser = matching.matchOfUser

        var domains = stored.organizationDomains
        if let domain = snapshot.directory.domain?.lowercased(), !domain.isEmpty { domains.insert(domain) }
        // New users, and the listed users of accounts still waiting in a link conflict, may link by email.
        let linker = Linker(
            candidates: stored.linkCandidates, organizationDomains: domains,
            newEmails: snapshot.users.indices.compactMap { index in
                matchOfUser[index].map { waitsForLink(stored.accounts[$0]) } ?? true ? snapshot.users[index].email : nil
            })
        let deprovisioning = policy.deprovisioning
        let directoryID = snapshot.directory.id

        plan.purgedAccountsReturning = matching.purgedReturning.map { stored.accounts[$0].id }
        reserveCapacity(in: &plan, listing, stored: stored, matchOfUser: matchOfUser, policy: policy)
        for (userIndex, user) in snapshot.users.enumerated() {
            // A quarantined user's account is left exactly as it is.
            if quarantine.skips(user) { continue }
            let groupIDs = listing.groupIDs(ofUser: userIndex)
            let fingerprint = listing.fingerprints[userIndex]
            guard let accountIndex = matchOfUser[userIndex] else {
                // A disabled account's idp_id taken by someone whose email and name differ: a new
                // person waits for an admin, never the old one's history and ownership.
                let link: LinkDecision = matching.idpIDReusedFrom[userIndex].map {
                    .conflict(candidates: stored.accounts[$0].userID.map { [$0] } ?? [], reason: .idpIDReused)
                } ?? linker.decision(for: user.email)
                plan.accountWrites.append(AccountWrite(
                    kind: .create(link), accountID: nil, user: user, groupIDs: groupIDs, fingerprint: fingerprint,
                    initialStatus: deprovisioning.grantsAccess(user.state, directoryID: directoryID) ? .active : .disabled))
                continue
            }
            // A conflict that resolved itself: exactly one person now has the email.
            if waitsForLink(stored.accounts[accountIndex]), case .existingPerson(let person) = linker.decision(for: user.email) {
                plan.conflictLinks.append(ConflictLink(
                    accountID: stored.accounts[accountIndex].id, workosID: user.id, target: .existingPerson(person),
                    resolution: .selfResolved))
            }
            let grantsAccess = deprovisioning.grantsAccess(user.state, directoryID: directoryID)
            // The account is read in place until it is written: copying it (three
            // strings retained and released) for every unchanged user cost a
            // twentieth of an unchanged resync's planning.
            if stored.accounts[accountIndex].status == .active && !grantsAccess {
                plan.disables.append(AccountDisable(account: stored.accounts[accountIndex], reason: .inactive))
            }
            guard let kind = writeKind(
                account: stored.accounts[accountIndex], user: user, fingerprint: fingerprint, grantsAccess: grantsAccess)
            else { continue }
            let account = stored.accounts[accountIndex]
            plan.accountWrites.append(AccountWrite(
                kind: kind, accountID: account.id, user: user, groupIDs: groupIDs, fingerprint: fingerprint,
                emailChange: account.email == user.email ? nil : EmailChange(old: account.email, new: user.email),
                previousWorkOSID: account.workosID == user.id ? nil : account.workosID))
            let storedGroups = stored.memberships[account.workosID] ?? []
            let listedGroups = Set(groupIDs)
            plan.existingAccountMembershipAdds += listedGroups.subtracting(storedGroups).map {
                Membership(groupWorkOSID: $0, userWorkOSID: user.id)
            }
            plan.membershipRemovals += storedGroups.subtracting(listedGroups).map {
                Membership(groupWorkOSID: $0, userWorkOSID: user.id)
            }
        }

        for index in stored.accounts.indices where !matching.matchedAccount[index] && stored.accounts[index].status == .active {
            if quarantine.protects(stored.accounts[index]) { continue }
            if quarantine.holdsMissingDisables {
                plan.missingDisablesWithheld += 1
                continue
            }
            // The absence debounce: disabled only after `missingAfterListings` consecutive absences.
            let absences = stored.accounts[index].missingListings + 1
            if absences < policy.missingAfterListings {
                let account = stored.accounts[index]
                plan.pendingAbsences.append(PendingAbsence(
                    accountID: account.id, workosID: account.workosID, email: account.email, absences: absences,
                    needed: policy.missingAfterListings, lastListedRunID: account.lastListedRunID))
                continue
            }
            plan.disables.append(AccountDisable(account: stored.accounts[index], reason: .missing))
        }
        plan.pendingAbsences.sort()

        planGroups(snapshot.groups, stored: stored.groups, into: &plan)

        plan.disables.sort()
        plan.existingAccountMembershipAdds.sort()
        plan.membershipRemovals.sort()
        let activeAccounts = stored.activeAccountCount
        if let feed = stored.eventFeed {
            plan.unexplainedDisappearances = plan.disables.lazy
                .filter { $0.reason == .missing && !feed.explainedAccounts.contains($0.accountID) }.count
        }
        plan.verdict = policy.crossChecked(
            policy.verdict(disables: plan.disables.count, activeAccounts: activeAccounts, listedUsers: snapshot.users.count),
            unexplained: plan.unexplainedDisappearances)
        let deactivations = plan.disables.lazy.filter { $0.reason == .inactive }.count
        if plan.verdict.holdsDisables && policy.sparesDeactivations(deactivations, activeAccounts: activeAccounts) {
            plan.sparedFromHold = [.inactive]
        }
        return plan
    }

    /// Sizes the plan's two large arrays exactly (a resync after a large
    /// change may plan 100k account writes and ~500k membership adds: growing
    /// them by doubling would hold up to twice that at the peak).
    private static func reserveCapacity(
        in plan: inout Plan, _ listing: PreparedListing, stored: StoredState, matchOfUser: [Int?], policy: SafetyPolicy
    ) {
        var accountWrites = 0
        var membershipAdds = 0
        for (userIndex, accountIndex) in matchOfUser.enumerated() {
            guard let accountIndex else {
                accountWrites += 1  // its memberships are its write's groupIDs
                continue
            }
            let user = listing.snapshot.users[userIndex]
            let grantsAccess = policy.deprovisioning.grantsAccess(user.state, directoryID: listing.snapshot.directory.id)
            if writeKind(
                account: stored.accounts[accountIndex], user: user, fingerprint: listing.fingerprints[userIndex],
                grantsAccess: grantsAccess) != nil
            {
                accountWrites += 1
                membershipAdds += listing.groupIDs(ofUser: userIndex).count  // at most all of its groups are new
            }
        }
        plan.accountWrites.reserveCapacity(accountWrites)
        plan.existingAccountMembershipAdds.reserveCapacity(membershipAdds)
    }

    /// What the store reads beyond the accounts so that `plan` can decide,
    /// from one matching of the listing to the accounts:
    /// - the accounts the plan will write (their listed user differs in
    ///   fingerprint, WorkOS id or status): the only ones whose stored group
    ///   memberships the plan compares, so an unchanged directory loads none (a
    ///   user's fingerprint covers its sorted group ids, so an account left out
    ///   has the listed groups);
    /// - the emails of listed users that match no account: the only ones that
    ///   may link to an existing person by email.
    public static func storedRowsNeeded(_ listing: PreparedListing, accounts: [StoredAccount]) -> StoredRowsNeeded {
        let users = listing.snapshot.users
        let matchOfUser = match(listing, to: accounts).matchOfUser
        var needed = StoredRowsNeeded()
        for (userIndex, accountIndex) in matchOfUser.enumerated() {
            guard let accountIndex else {
                if let email = users[userIndex].email { needed.linkEmails.append(email) }
                continue
            }
            if waitsForLink(accounts[accountIndex]), let email = users[userIndex].email { needed.linkEmails.append(email) }
            // No policy here: any state some configuration may keep active counts as one (a superset).
            let mayGrantAccess = DeprovisioningPolicy.mayGrantAccess(users[userIndex].state)
            if writeKind(
                account: accounts[accountIndex], user: users[userIndex], fingerprint: listing.fingerprints[userIndex],
                grantsAccess: mayGrantAccess) != nil
            {
                needed.membershipsOf.append(accounts[accountIndex].id)
            }
        }
        return needed
    }

    /// The active accounts the listing does not contain (the candidates for
    /// `missing`), for the store to cross-check against the event feed.
    public static func missingAccounts(_ listing: PreparedListing, accounts: [StoredAccount]) -> [UUID] {
        let matched = match(listing, to: accounts).matchedAccount
        return accounts.indices.filter { !matched[$0] && accounts[$0].status == .active }.map { accounts[$0].id }
    }

    /// How the listed users map to stored accounts.
    struct Matching {
        /// Each listed user's account index, nil for a new account.
        var matchOfUser: [Int?]
        /// Which accounts a listed user stands for (they are never `missing`).
        var matchedAccount: [Bool]
        /// New users that took the `idp_id` of a disabled account whose email
        /// and name differ: user index → that account's index.
        var idpIDReusedFrom: [Int: Int] = [:]
        /// Purged accounts whose user is active again (a new account takes over its WorkOS id).
        var purgedReturning: [Int] = []
    }

    /// Matches listed users to stored accounts: WorkOS id first, then `idp_id`
    /// (a rehire under a new WorkOS id). A disabled account is reactivated by
    /// `idp_id` only when the email or the name matches too, and an account
    /// whose person was purged (anonymised) never comes back: its user, once
    /// active again, is a new account of a new person.
    private static func match(_ listing: PreparedListing, to accounts: [StoredAccount]) -> Matching {
        let users = listing.snapshot.users
        var matching = Matching(
            matchOfUser: [Int?](repeating: nil, count: users.count),
            matchedAccount: [Bool](repeating: false, count: accounts.count))
        for index in accounts.indices {
            if let userIndex = listing.userIndex(id: accounts[index].workosID) {
                matching.matchedAccount[index] = true
                if accounts[index].isAnonymized && users[userIndex].state.isActive {
                    matching.purgedReturning.append(index)
                    continue
                }
                matching.matchOfUser[userIndex] = index
            }
        }
        // Rehires: users still unmatched, by idp_id among accounts still unmatched (usually none of either).
        let unmatchedUsers = users.indices.filter { matching.matchOfUser[$0] == nil && !users[$0].idpID.isEmpty }
        guard !unmatchedUsers.isEmpty else { return matching }
        var accountIndexByIdpID: [String: Int] = [:]
        for (index, account) in accounts.enumerated()
        where !matching.matchedAccount[index] && !account.idpID.isEmpty && !account.isAnonymized {
            accountIndexByIdpID[account.idpID] = index
        }
        for userIndex in unmatchedUsers {
            guard let index = accountIndexByIdpID[users[userIndex].idpID], !matching.matchedAccount[index] else { continue }
            if accounts[index].status == .disabled && !isSamePerson(accounts[index], users[userIndex]) {
                matching.idpIDReusedFrom[userIndex] = index
                continue
            }
            matching.matchOfUser[userIndex] = index
            matching.matchedAccount[index] = true
        }
        return matching
    }

    /// Whether a listed user is the person of a disabled account: the same
    /// email, or the same first and last name (case-insensitive, both given).
    private static func isSamePerson(_ account: StoredAccount, _ user: DirectoryUser) -> Bool {
        func same(_ a: String?, _ b: String?) -> Bool {
            guard let a, let b, !a.isEmpty else { return false }
            return a.caseInsensitiveCompare(b) == .orderedSame
        }
        return same(account.email, user.email)
            || (same(account.firstName, user.firstName) && same(account.lastName, user.lastName))
    }

    /// How a matched account is written, or nil when it is unchanged.
    /// `grantsAccess`: the user's state keeps the account active (see `DeprovisioningPolicy`).
    private static func writeKind(
        account: StoredAccount, user: DirectoryUser, fingerprint: Fingerprint, grantsAccess: Bool
    ) -> AccountWrite.Kind? {
        // A purged account stays as the purge left it (its user, still inactive, is not re-imported).
        if account.isAnonymized { return nil }
        if account.status == .disabled && grantsAccess { return .reactivate }
        // An account listed again after it went missing: its trail (`last_listed_run_id`) and absence count are cleared.
        if account.fingerprint != fingerprint || account.workosID != user.id || account.lastListedRunID != nil
            || account.missingListings > 0
        {
            return .update
        }
        return nil
    }

    /// An account not linked to any person (it waits in `link_conflicts`); a run links it once its email
    /// matches exactly one person. A purged account never links again.
    private static func waitsForLink(_ account: StoredAccount) -> Bool {
        account.userID == nil && !account.isAnonymized
    }

    /// Plans a directory that vanished from `GET /directories`: its active
    /// accounts are disabled with reason `directory_removed`, held unless the
    /// policy says `disable` and their number is within the guard's threshold.
    public static func planDirectoryRemoved(directory: Directory, stored: StoredState, policy: SafetyPolicy) -> Plan {
        var plan = Plan(directory: directory)
        plan.directoryRemoved = true
        plan.disables = stored.accounts.filter { $0.status == .active }
            .map { AccountDisable(account: $0, reason: .directoryRemoved) }
            .sorted()
        // Hybrid mode: only a deletion the event feed confirmed may disable (full mode has no feed to ask).
        plan.verdict = policy.verdictForRemovedDirectory(
            disables: plan.disables.count, activeAccounts: stored.activeAccountCount,
            deletionConfirmed: stored.eventFeed?.directoryDeletionConfirmed ?? true)
        return plan
    }

    /// The listing's quarantine, plus the users it cannot use: one of another
    /// directory, and every user of an `idp_id` that several users share
    /// (which of them is the account's person cannot be told). A group of
    /// another directory still fails the plan.
    private static func checkConsistency(_ snapshot: DirectorySnapshot) throws(PlanningError) -> Quarantine {
        let directoryID = snapshot.directory.id
        var quarantine = Quarantine(snapshot)
        var workosIDByIdpID: [String: String] = [:]
        var duplicates: [String: Set<String>] = [:]
        workosIDByIdpID.reserveCapacity(snapshot.users.count)
        for user in snapshot.users {
            guard user.directoryID == directoryID else {
                quarantine.add(QuarantinedRecord(id: user.id, reason: "belongs to directory \(user.directoryID), not \(directoryID)"))
                continue
            }
            guard !user.idpID.isEmpty else { continue }
            if let other = workosIDByIdpID[user.idpID] {
                if other != user.id { duplicates[user.idpID, default: [other]].insert(user.id) }
            } else {
                workosIDByIdpID[user.idpID] = user.id
            }
        }
        for (idpID, ids) in duplicates.sorted(by: { $0.key < $1.key }) {
            quarantine.addDuplicate(idpID: idpID, workosIDs: ids.sorted())
        }
        for group in snapshot.groups where group.directoryID != directoryID {
            throw .foreignObject(id: group.id, directoryID: group.directoryID)
        }
        return quarantine
    }

    private static func planGroups(_ listed: [DirectoryGroup], stored: [StoredGroup], into plan: inout Plan) {
        var storedByWorkOSID: [String: StoredGroup] = [:]
        for group in stored { storedByWorkOSID[group.workosID] = group }
        var seen = Set<String>()
        for group in listed {
            seen.insert(group.id)
            let fingerprint = Fingerprint.of(group: group)
            if let existing = storedByWorkOSID[group.id] {
                if existing.fingerprint != fingerprint || existing.isRemoved {
                    plan.groupWrites.append(GroupWrite(kind: .update, groupID: existing.id, group: group, fingerprint: fingerprint))
                }
            } else {
                plan.groupWrites.append(GroupWrite(kind: .create, groupID: nil, group: group, fingerprint: fingerprint))
            }
        }
        plan.groupRemovals = stored.filter { !$0.isRemoved && !seen.contains($0.workosID) }
            .sorted { $0.workosID < $1.workosID }
    }
}

/// Links new accounts to existing persons by exact, case-insensitive, 1:1
/// email match, within the tenant: a person who has an account in another
/// organization's directory is linked only when the email's domain is one of
/// this organization's.
struct Linker {
    private var candidatesByEmail: [String: [LinkCandidate]] = [:]
    private var newAccountsByEmail: [String: Int] = [:]
    private let organizationDomains: Set<String>

    init(candidates: [LinkCandidate], organizationDomains: Set<String>, newEmails: [String]) {
        self.organizationDomains = organizationDomains
        for candidate in candidates {
            candidatesByEmail[candidate.email.lowercased(), default: []].append(candidate)
        }
        // Only emails that have a candidate can link, so only those are counted and kept.
        for email in newEmails {
            let key = email.lowercased()
            if candidatesByEmail[key] != nil { newAccountsByEmail[key, default: 0] += 1 }
        }
    }

    func decision(for email: String?) -> LinkDecision {
        guard let email, !email.isEmpty else { return .newPerson }
        let key = email.lowercased()
        let candidates = (candidatesByEmail[key] ?? []).sorted { $0.userID.uuidString < $1.userID.uuidString }
        let ids = candidates.map(\.userID)
        switch candidates.count {
        case 0: return .newPerson
        case 1 where newAccountsByEmail[key] == 1:
            if candidates[0].belongsToOtherOrganization && !isOrganizationEmail(key) {
                return .conflict(candidates: ids, reason: .otherOrganization)
            }
            return .existingPerson(ids[0])
        default: return .conflict(candidates: ids, reason: .ambiguous)
        }
    }

    /// True when the (lower-cased) email's domain is one of the organization's.
    private func isOrganizationEmail(_ email: String) -> Bool {
        guard let at = email.lastIndex(of: "@") else { return false }
        return organizationDomains.contains(String(email[email.index(after: at)...]))
    }
}
