import Foundation
import Reconciler
import WorkOSModel

/// Builds listings from small integers (so property tests shrink well) and
/// applies plans to an in-memory model of the store, mirroring what
/// `Store.apply` does in PostgreSQL.
enum ModelWorld {
    static let directory = Directory(
        id: "directory_A", organizationID: "org_A", name: "Acme", domain: "acme.test",
        type: "okta scim v2.0", state: .linked)

    /// Decodes one user from an integer in 0..<7680: idp index, state, group
    /// mask, a name variant and whether WorkOS re-issued its id (rehire).
    static func user(from code: Int, directoryID: String = directory.id) -> (DirectoryUser, [String]) {
        let idp = code % 12
        let active = (code / 12) % 5 != 0
        let mask = (code / 60) % 16
        let variant = (code / 960) % 2
        let reissued = (code / 1920) % 4 == 0
        let user = DirectoryUser(
            id: reissued ? "user_\(idp)_rehired" : "user_\(idp)", directoryID: directoryID,
            organizationID: "org_A", idpID: "idp_\(idp)",
            email: variant == 0 ? "Person\(idp)@Acme.test" : "person\(idp).new@acme.test",
            firstName: "Pérson \(idp)", lastName: variant == 0 ? "Ün" : "Deux",
            state: active ? .active : .inactive)
        let groups = (0..<4).filter { mask & (1 << $0) != 0 }.map { "group_\($0)" }
        return (user, groups)
    }

    /// A complete snapshot from user codes; duplicate idp indexes keep the first.
    static func snapshot(_ codes: [Int], renameGroups: Bool = false, directoryID: String = directory.id) -> DirectorySnapshot {
        var seenIdp = Set<String>()
        var users: [DirectoryUser] = []
        var memberships: [String: [String]] = [:]
        for code in codes {
            let (user, groups) = self.user(from: code, directoryID: directoryID)
            guard seenIdp.insert(user.idpID).inserted else { continue }
            users.append(user)
            for group in groups { memberships[group, default: []].append(user.id) }
        }
        let groups = (0..<4).map {
            DirectoryGroup(
                id: "group_\($0)", directoryID: directoryID, organizationID: "org_A", idpID: "gidp_\($0)",
                name: renameGroups ? "Group \($0) renamed" : "Group \($0)")
        }
        var directory = directory
        directory.id = directoryID
        return DirectorySnapshot(directory: directory, users: users, groups: groups, memberships: memberships)
    }

    /// A permissive policy, so convergence properties see every disable applied.
    static let permissive = SafetyPolicy(minUsers: 1_000, fraction: 1)
}

/// The store, in memory: accounts, groups and memberships of one directory.
struct ModelStore {
    var state: StoredState
    private var nextID = 1

    init(directoryID: String = ModelWorld.directory.id, linkCandidates: [LinkCandidate] = []) {
        state = StoredState(directoryID: directoryID, linkCandidates: linkCandidates)
    }

    private mutating func newID() -> UUID {
        defer { nextID += 1 }
        return UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", nextID))!
    }

    mutating func apply(_ plan: Plan) {
        for index in state.accounts.indices where plan.purgedAccountsReturning.contains(state.accounts[index].id) {
            state.accounts[index].workosID += " (released \(state.accounts[index].id))"
        }
        // As the store does: an idp_id a written account takes is released by any other account holding it.
        for write in plan.accountWrites where !write.user.idpID.isEmpty {
            for index in state.accounts.indices
            where state.accounts[index].idpID == write.user.idpID && state.accounts[index].id != write.accountID {
                state.accounts[index].idpID += " (released \(state.accounts[index].id))"
            }
        }
        for write in plan.accountWrites {
            switch write.kind {
            case .create(let link):
                let userID: UUID? = switch link {
                case .newPerson: newID()
                case .existingPerson(let id): id
                case .conflict: nil
                }
                state.accounts.append(StoredAccount(
                    id: newID(), workosID: write.user.id, idpID: write.user.idpID, userID: userID,
                    email: write.user.email, status: write.initialStatus,
                    disabledReason: write.initialStatus == .active ? nil : .inactive, fingerprint: write.fingerprint,
                    firstName: write.user.firstName, lastName: write.user.lastName))
            case .update, .reactivate:
                let index = state.accounts.firstIndex { $0.id == write.accountID }!
                if let previous = write.previousWorkOSID, let groups = state.memberships.removeValue(forKey: previous) {
                    state.memberships[write.user.id] = groups
                }
                state.accounts[index].workosID = write.user.id
                state.accounts[index].idpID = write.user.idpID
                state.accounts[index].email = write.user.email
                state.accounts[index].firstName = write.user.firstName
                state.accounts[index].lastName = write.user.lastName
                state.accounts[index].fingerprint = write.fingerprint
                state.accounts[index].missingListings = 0
                if write.kind == .reactivate {
                    state.accounts[index].status = .active
                    state.accounts[index].disabledReason = nil
                }
            }
        }
        for link in plan.conflictLinks {
            let index = state.accounts.firstIndex { $0.id == link.accountID }!
            if case .existingPerson(let person) = link.target { state.accounts[index].userID = person } else { state.accounts[index].userID = newID() }
        }
        // As the store does: each debounced absence is counted, a disable clears the count.
        for absence in plan.pendingAbsences {
            let index = state.accounts.firstIndex { $0.id == absence.accountID }!
            state.accounts[index].missingListings += 1
        }
        for disable in plan.disablesToApply {
            let index = state.accounts.firstIndex { $0.id == disable.accountID }!
            state.accounts[index].status = .disabled
            state.accounts[index].disabledReason = disable.reason
            state.accounts[index].missingListings = 0
        }
        for write in plan.groupWrites {
            if let index = state.groups.firstIndex(where: { $0.workosID == write.group.id }) {
                state.groups[index].name = write.group.name
                state.groups[index].fingerprint = write.fingerprint
                state.groups[index].isRemoved = false
            } else {
                state.groups.append(StoredGroup(
                    id: newID(), workosID: write.group.id, idpID: write.group.idpID, name: write.group.name,
                    fingerprint: write.fingerprint))
            }
        }
        for removal in plan.groupRemovals {
            let index = state.groups.firstIndex { $0.workosID == removal.workosID }!
            state.groups[index].isRemoved = true
        }
        for membership in plan.membershipAdds {
            state.memberships[membership.userWorkOSID, default: []].insert(membership.groupWorkOSID)
        }
        for membership in plan.membershipRemovals {
            state.memberships[membership.userWorkOSID]?.remove(membership.groupWorkOSID)
        }
    }
}
