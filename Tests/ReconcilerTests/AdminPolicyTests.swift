import Foundation
import Reconciler
import Testing
import WorkOSModel

/// The planner's admin-workflow rules as examples: which states keep access,
/// what the absence debounce never delays, and a conflict that resolved itself.
@Suite struct AdminPolicyTests {
    static let directory = ModelWorld.directory

    func user(_ id: String, email: String = "ana@acme.test", state: DirectoryUserState = .active) -> DirectoryUser {
        DirectoryUser(
            id: id, directoryID: Self.directory.id, organizationID: "org_A", idpID: "idp_\(id)", email: email, firstName: "Ana",
            lastName: "Lima", state: state)
    }

    func account(for user: DirectoryUser, person: UUID? = UUID()) -> StoredAccount {
        StoredAccount(
            id: UUID(), workosID: user.id, idpID: user.idpID, userID: person, email: user.email, status: .active,
            fingerprint: Fingerprint.of(user: user, groupIDs: []))
    }

    /// The plan an event decision applies; throws when the decision is not to apply one.
    func applied(_ decision: EventDecision, _ what: String) throws -> Plan {
        guard case .apply(let plan) = decision else { throw PlanExpected(what: what, decision: decision) }
        return plan
    }

    struct PlanExpected: Error {
        var what: String
        var decision: EventDecision
    }

    func snapshot(_ users: [DirectoryUser]) -> DirectorySnapshot {
        DirectorySnapshot(directory: Self.directory, users: users, groups: [], memberships: [:])
    }

    @Test func aKeptStateKeepsTheAccountActiveOnlyWhereConfigured() throws {
        let onLeave = user("user_1", state: .unknown("on_leave"))
        let stored = StoredState(directoryID: Self.directory.id, accounts: [account(for: user("user_1"))])
        var keeping = SafetyPolicy()
        keeping.deprovisioning = DeprovisioningPolicy(keepActiveStatesByDirectory: [Self.directory.id: ["on_leave"]])
        let kept = try Planner.plan(snapshot: snapshot([onLeave]), stored: stored, policy: keeping)
        #expect(kept.disables.isEmpty)
        #expect(kept.accountWrites.map(\.kind) == [.update])
        let elsewhere = DeprovisioningPolicy(keepActiveStatesByDirectory: ["directory_B": ["on_leave"]])
        let disabled = try Planner.plan(snapshot: snapshot([onLeave]), stored: stored, policy: SafetyPolicy(deprovisioning: elsewhere))
        #expect(disabled.disables.map(\.reason) == [.inactive])
        // A new on_leave user starts active where the state keeps access, disabled elsewhere.
        let empty = StoredState(directoryID: Self.directory.id)
        #expect(try Planner.plan(snapshot: snapshot([onLeave]), stored: empty, policy: keeping).accountWrites.map(\.initialStatus) == [.active])
        #expect(try Planner.plan(snapshot: snapshot([onLeave]), stored: empty, policy: SafetyPolicy()).accountWrites.map(\.initialStatus) == [.disabled])
        // An event deactivating the user into the kept state keeps the account too.
        var slice = EventSlice(directory: Self.directory)
        slice.accounts = stored.accounts
        slice.activeAccounts = 1
        let plan = try applied(EventPlanner.plan(.userUpdated(onLeave), slice: slice, policy: keeping), "the state change is written")
        #expect(plan.disables.isEmpty)
        let inactive = try applied(EventPlanner.plan(.userUpdated(onLeave), slice: slice, policy: SafetyPolicy()), "the deactivation is planned")
        #expect(inactive.disables.map(\.reason) == [.inactive])
    }

    @Test func theDebounceNeverDelaysADeactivationOrADeletionEvent() throws {
        var debounced = SafetyPolicy()
        debounced.missingAfterListings = 3
        let (stays, leaves, deactivated) = (user("user_1"), user("user_2", email: "bo@acme.test"), user("user_3", email: "cy@acme.test"))
        let stored = StoredState(
            directoryID: Self.directory.id, accounts: [account(for: stays), account(for: leaves), account(for: deactivated)])
        var inactive = deactivated
        inactive.state = .inactive
        let plan = try Planner.plan(snapshot: snapshot([stays, inactive]), stored: stored, policy: debounced)
        #expect(plan.disables.map(\.workosID) == ["user_3"])
        #expect(plan.pendingAbsences.map { "\($0.workosID) \($0.absences)/\($0.needed)" } == ["user_2 1/3"])
        var slice = EventSlice(directory: Self.directory)
        slice.accounts = stored.accounts
        slice.activeAccounts = 3
        let deleted = try applied(EventPlanner.plan(.userDeleted(leaves), slice: slice, policy: debounced), "the deletion is planned")
        #expect(deleted.disables.map(\.reason) == [.missing])
        #expect(deleted.pendingAbsences.isEmpty)
        // A user event never counts anybody's absence (only a complete listing can).
        let updated = try applied(EventPlanner.plan(.userUpdated(inactive), slice: slice, policy: debounced), "the update is planned")
        #expect(updated.pendingAbsences.isEmpty)
    }

    @Test func anUnlinkedAccountIsLinkedOnceExactlyOnePersonHasItsEmail() throws {
        let listed = user("user_1")
        let waiting = account(for: listed, person: nil)
        let person = UUID()
        let one = StoredState(
            directoryID: Self.directory.id, accounts: [waiting],
            linkCandidates: [LinkCandidate(userID: person, email: "ana@acme.test")])
        let plan = try Planner.plan(snapshot: snapshot([listed]), stored: one, policy: SafetyPolicy())
        #expect(plan.conflictLinks == [ConflictLink(accountID: waiting.id, workosID: "user_1", target: .existingPerson(person), resolution: .selfResolved)])
        var two = one
        two.linkCandidates.append(LinkCandidate(userID: UUID(), email: "ana@acme.test"))
        #expect(try Planner.plan(snapshot: snapshot([listed]), stored: two, policy: SafetyPolicy()).conflictLinks.isEmpty)
        // The store reads the candidates of a waiting account's email.
        #expect(Planner.storedRowsNeeded(PreparedListing(snapshot([listed])), accounts: [waiting]).linkEmails == ["ana@acme.test"])
    }
}
