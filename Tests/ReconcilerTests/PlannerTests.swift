import Foundation
import Reconciler
import Testing
import WorkOSModel

/// The planner, case by case: each line of the provisioning and deprovisioning checklist.
@Suite struct PlannerTests {
    func user(_ n: Int, email: String? = nil, state: DirectoryUserState = .active, id: String? = nil, last: String = "Ün") -> DirectoryUser {
        DirectoryUser(
            id: id ?? "user_\(n)", directoryID: "directory_A", organizationID: "org_A", idpID: "idp_\(n)",
            email: email ?? "person\(n)@acme.test", firstName: "Pérson", lastName: last, state: state)
    }

    func snapshot(_ users: [DirectoryUser], memberships: [String: [String]] = [:]) -> DirectorySnapshot {
        DirectorySnapshot(
            directory: ModelWorld.directory, users: users,
            groups: [DirectoryGroup(id: "group_1", directoryID: "directory_A", organizationID: "org_A", idpID: "g1", name: "Engineering")],
            memberships: memberships)
    }

    func synced(_ users: [DirectoryUser], memberships: [String: [String]] = [:]) throws -> ModelStore {
        var store = ModelStore()
        store.apply(try Planner.plan(snapshot: snapshot(users, memberships: memberships), stored: store.state, policy: SafetyPolicy()))
        return store
    }

    @Test func theCrossCheckHoldsOnlyDisappearancesTheFeedLeavesUnexplainedAboveTheLimit() throws {
        let everyone = (1...40).map { user($0) }
        let store = try synced(everyone)
        let gone = Set((1...12).map { "user_\($0)" })
        let listing = snapshot(everyone.filter { !gone.contains($0.id) })
        let goneAccounts = store.state.accounts.filter { gone.contains($0.workosID) }.map(\.id)
        func plan(explained: Int?) throws -> Plan {
            var stored = store.state
            stored.eventFeed = explained.map { EventFeedHistory(explainedAccounts: Set(goneAccounts.prefix($0))) }
            return try Planner.plan(snapshot: listing, stored: stored, policy: SafetyPolicy())
        }
        // No feed (no events cursor): nothing is counted, 12 of 40 is under the guard's threshold.
        let withoutFeed = try plan(explained: nil)
        #expect(withoutFeed.unexplainedDisappearances == nil)
        #expect(withoutFeed.verdict == .proceed)
        // The feed explains 2: 10 unexplained is the limit itself, still applied.
        let atLimit = try plan(explained: 2)
        #expect(atLimit.unexplainedDisappearances == 10)
        #expect(atLimit.verdict == .proceed)
        // The feed explains 1: 11 unexplained are held, all 12 disables with them.
        let aboveLimit = try plan(explained: 1)
        #expect(aboveLimit.unexplainedDisappearances == 11)
        #expect(aboveLimit.verdict == .hold(.unexplainedDisappearances(accounts: 11, limit: 10)))
        #expect(aboveLimit.disablesToApply.isEmpty)
        // A verdict the guard already holds keeps its own reason.
        let policy = SafetyPolicy()
        let massHold = SafetyVerdict.hold(.massDisable(disables: 30, threshold: 25, activeAccounts: 40))
        #expect(policy.crossChecked(massHold, unexplained: 30) == massHold)
    }

    @Test func firstSyncCreatesAccountsGroupsAndMemberships() throws {
        let plan = try Planner.plan(
            snapshot: snapshot([user(1), user(2)], memberships: ["group_1": ["user_1"]]),
            stored: StoredState(directoryID: "directory_A"), policy: SafetyPolicy())
        #expect(plan.summary.creates == 2)
        #expect(plan.groupWrites.count == 1)
        #expect(plan.membershipAdds == [Membership(groupWorkOSID: "group_1", userWorkOSID: "user_1")])
        // A new account's memberships are its write's groups, not held a second time.
        #expect(plan.existingAccountMembershipAdds.isEmpty)
        #expect(plan.membershipAddCount == 1)
        #expect(plan.disables.isEmpty)
        #expect(plan.summary.line == "2 creates, 1 group change, 1 membership change")
    }

    @Test func aMemberListedTwiceIsOneMembership() throws {
        let twice = snapshot([user(1)], memberships: ["group_1": ["user_1", "user_1"]])
        let plan = try Planner.plan(snapshot: twice, stored: StoredState(directoryID: "directory_A"), policy: SafetyPolicy())
        #expect(plan.membershipAdds == [Membership(groupWorkOSID: "group_1", userWorkOSID: "user_1")])
        // The same fingerprint as a listing that names the member once: nothing to do afterwards.
        let store = try synced([user(1)], memberships: ["group_1": ["user_1"]])
        #expect(try Planner.plan(snapshot: twice, stored: store.state, policy: SafetyPolicy()).isEmpty)
    }

    @Test func eachUsersGroupsAreSortedAndUniqueWhateverTheListingOrder() throws {
        // Members listed in any order and some twice, users with no, one and several groups.
        let listing = snapshot([user(1), user(2), user(3), user(4)], memberships: [
            "group_c": ["user_3", "user_1", "user_3"],
            "group_a": ["user_1", "user_3", "user_1", "user_1"],
            "group_b": ["user_3"],
        ])
        let plan = try Planner.plan(snapshot: listing, stored: StoredState(directoryID: "directory_A"), policy: SafetyPolicy())
        let groupsByUser = Dictionary(uniqueKeysWithValues: plan.accountWrites.map { ($0.user.id, Array($0.groupIDs)) })
        #expect(groupsByUser == [
            "user_1": ["group_a", "group_c"], "user_2": [], "user_3": ["group_a", "group_b", "group_c"], "user_4": [],
        ])
        #expect(plan.membershipAdds.count == 5)
    }

    @Test func customAttributesAreKeptAsCanonicalTextAndReadBack() {
        var attributed = user(1)
        #expect(attributed.customAttributesText == "{}")
        attributed.customAttributes = .object(["z": .string("last"), "a": .array([.number(1), .null, .bool(true)])])
        #expect(attributed.customAttributesText == #"{"a":[1,null,true],"z":"last"}"#)
        #expect(attributed.customAttributes == .object(["z": .string("last"), "a": .array([.number(1), .null, .bool(true)])]))
        #expect(user(1).customAttributes == .object([:]))
    }

    @Test func unchangedListingYieldsAnEmptyPlan() throws {
        let users = [user(1), user(2)]
        let store = try synced(users, memberships: ["group_1": ["user_2"]])
        let plan = try Planner.plan(snapshot: snapshot(users, memberships: ["group_1": ["user_2"]]), stored: store.state, policy: SafetyPolicy())
        #expect(plan.isEmpty)
        #expect(plan.summary.line == "no changes")
    }

    @Test func profileAndEmailChangesAreUpdatesWithTheEmailChangeNamed() throws {
        let store = try synced([user(1), user(2)])
        let plan = try Planner.plan(
            snapshot: snapshot([user(1, last: "Changed"), user(2, email: "renamed@acme.test")]),
            stored: store.state, policy: SafetyPolicy())
        #expect(plan.summary.updates == 2)
        #expect(plan.summary.emailChanges == 1)
        let emailWrite = try #require(plan.accountWrites.first { $0.user.id == "user_2" })
        #expect(emailWrite.emailChange?.old == "person2@acme.test")
        #expect(emailWrite.emailChange?.new == "renamed@acme.test")
    }

    @Test func inactiveStateAndAbsenceBothDisableWithTheirReasons() throws {
        let store = try synced([user(1), user(2), user(3)])
        let plan = try Planner.plan(snapshot: snapshot([user(1), user(2, state: .inactive)]), stored: store.state, policy: SafetyPolicy())
        #expect(plan.disables.map(\.workosID) == ["user_2", "user_3"])
        #expect(plan.disables.map(\.reason) == [.inactive, .missing])
        #expect(plan.verdict == .proceed)
    }

    @Test func unknownAndLegacyStatesDeprovision() throws {
        let store = try synced([user(1), user(2)])
        let plan = try Planner.plan(
            snapshot: snapshot([user(1, state: .suspended), user(2, state: .unknown("on_leave"))]),
            stored: store.state, policy: SafetyPolicy())
        #expect(plan.disables.map(\.reason) == [.inactive, .inactive])
    }

    @Test func reactivationKeepsTheAccountAndARehireUnderANewIDIsNotADuplicate() throws {
        var store = try synced([user(1), user(2)])
        store.apply(try Planner.plan(snapshot: snapshot([user(1)]), stored: store.state, policy: SafetyPolicy()))
        let disabled = try #require(store.state.accounts.first { $0.workosID == "user_2" })
        #expect(disabled.status == .disabled)

        let plan = try Planner.plan(
            snapshot: snapshot([user(1), user(2, id: "user_2_new")]), stored: store.state, policy: SafetyPolicy())
        #expect(plan.summary.creates == 0)
        let write = try #require(plan.accountWrites.first)
        #expect(write.kind == .reactivate)
        #expect(write.accountID == disabled.id)
        #expect(write.previousWorkOSID == "user_2")
        store.apply(plan)
        #expect(store.state.accounts.count == 2)
        #expect(store.state.accounts.first { $0.id == disabled.id }?.workosID == "user_2_new")
    }

    @Test func usersSharingAnIdpIDAreQuarantinedAndTheRestApplies() throws {
        let store = try synced([user(1), user(2), user(3)])
        // user_2 left; user_x turns up with user_1's idp_id; user_1 changed its name.
        let plan = try Planner.plan(
            snapshot: snapshot([user(1, last: "Renamed"), user(1, id: "user_x"), user(3)]), stored: store.state,
            policy: SafetyPolicy())
        #expect(plan.quarantine.records.map(\.id) == ["user_1", "user_x"])
        #expect(plan.quarantine.records[0].reason == "duplicate idp_id idp_1 (users user_1, user_x)")
        #expect(plan.accountWrites.isEmpty, "neither user_1's account is updated nor user_x's created")
        #expect(plan.disables.map(\.workosID) == ["user_2"])
        #expect(plan.summary.line == "1 disable, 2 quarantined")
    }

    @Test func preExistingPersonsLinkOnlyOnAUniqueCaseInsensitiveEmail() throws {
        let ana = UUID(), bob1 = UUID(), bob2 = UUID()
        let stored = StoredState(directoryID: "directory_A", linkCandidates: [
            LinkCandidate(userID: ana, email: "ana@acme.test"),
            LinkCandidate(userID: bob1, email: "bob@acme.test"), LinkCandidate(userID: bob2, email: "bob@acme.test"),
        ])
        let plan = try Planner.plan(
            snapshot: snapshot([user(1, email: "ANA@Acme.test"), user(2, email: "bob@acme.test"), user(3, email: nil)]),
            stored: stored, policy: SafetyPolicy())
        let kinds = Dictionary(uniqueKeysWithValues: plan.accountWrites.map { ($0.user.id, $0.kind) })
        #expect(kinds["user_1"] == .create(.existingPerson(ana)))
        #expect(kinds["user_2"] == .create(.conflict(candidates: [bob1, bob2].sorted { $0.uuidString < $1.uuidString }, reason: .ambiguous)))
        #expect(kinds["user_3"] == .create(.newPerson))
    }

    @Test func twoNewAccountsWithOnePersonsEmailAreAConflictNotAGuess() throws {
        let ana = UUID()
        let stored = StoredState(directoryID: "directory_A", linkCandidates: [LinkCandidate(userID: ana, email: "ana@acme.test")])
        let plan = try Planner.plan(
            snapshot: snapshot([user(1, email: "ana@acme.test"), user(2, email: "Ana@acme.test")]), stored: stored,
            policy: SafetyPolicy())
        #expect(plan.accountWrites.allSatisfy { $0.kind == .create(.conflict(candidates: [ana], reason: .ambiguous)) })
    }

    @Test func anotherOrganizationsPersonIsLinkedOnlyByAnEmailOfThisOrganizationsDomains() throws {
        let ceo = UUID(), partner = UUID()
        let stored = StoredState(
            directoryID: "directory_A",
            linkCandidates: [
                LinkCandidate(userID: ceo, email: "ceo@customer-b.example", belongsToOtherOrganization: true),
                LinkCandidate(userID: partner, email: "partner@acme.test", belongsToOtherOrganization: true),
            ],
            organizationDomains: ["acme.test"])
        let plan = try Planner.plan(
            snapshot: snapshot([user(1, email: "CEO@customer-b.example"), user(2, email: "partner@ACME.test")]),
            stored: stored, policy: SafetyPolicy())
        let kinds = Dictionary(uniqueKeysWithValues: plan.accountWrites.map { ($0.user.id, $0.kind) })
        #expect(kinds["user_1"] == .create(.conflict(candidates: [ceo], reason: .otherOrganization)))
        #expect(kinds["user_2"] == .create(.existingPerson(partner)))
    }

    func disabledAccount(idpID: String, email: String?, first: String?, last: String?, person: UUID, anonymized: Bool = false) -> StoredAccount {
        StoredAccount(
            id: UUID(), workosID: "user_old", idpID: idpID, userID: person, email: email, status: .disabled,
            disabledReason: .missing, fingerprint: nil, firstName: first, lastName: last, isAnonymized: anonymized)
    }

    @Test func aReusedIdpIDReactivatesADisabledAccountOnlyWhenTheEmailOrTheNameMatches() throws {
        let person = UUID()
        let byEmail = StoredState(directoryID: "directory_A", accounts: [
            disabledAccount(idpID: "idp_1", email: "PERSON1@acme.test", first: "Old", last: "Name", person: person),
        ])
        #expect(try Planner.plan(snapshot: snapshot([user(1)]), stored: byEmail, policy: SafetyPolicy()).accountWrites[0].kind == .reactivate)
        let byName = StoredState(directoryID: "directory_A", accounts: [
            disabledAccount(idpID: "idp_1", email: "other@acme.test", first: "pérson", last: "ün", person: person),
        ])
        #expect(try Planner.plan(snapshot: snapshot([user(1)]), stored: byName, policy: SafetyPolicy()).accountWrites[0].kind == .reactivate)
        let stranger = StoredState(directoryID: "directory_A", accounts: [
            disabledAccount(idpID: "idp_1", email: "leaver@acme.test", first: "Lea", last: "Ver", person: person),
        ])
        let plan = try Planner.plan(snapshot: snapshot([user(1)]), stored: stranger, policy: SafetyPolicy())
        #expect(plan.accountWrites.count == 1)
        #expect(plan.accountWrites[0].kind == .create(.conflict(candidates: [person], reason: .idpIDReused)))
        #expect(plan.accountWrites[0].accountID == nil)
        #expect(plan.disables.isEmpty)
    }

    @Test func aPurgedAccountsUserComingBackActiveIsANewPersonAndTheOldStaysAsItIs() throws {
        let person = UUID()
        var purged = disabledAccount(idpID: "idp_1", email: nil, first: nil, last: nil, person: person, anonymized: true)
        purged.workosID = "user_1"
        let stored = StoredState(directoryID: "directory_A", accounts: [purged])
        // Still inactive: the purged account is neither rewritten nor re-imported.
        let inactive = try Planner.plan(snapshot: snapshot([user(1, state: .inactive)]), stored: stored, policy: SafetyPolicy())
        #expect(inactive.accountWrites.isEmpty && inactive.disables.isEmpty && inactive.purgedAccountsReturning.isEmpty)
        let back = try Planner.plan(snapshot: snapshot([user(1)]), stored: stored, policy: SafetyPolicy())
        #expect(back.accountWrites.map(\.kind) == [.create(.newPerson)])
        #expect(back.purgedAccountsReturning == [purged.id])
    }

    @Test func explicitDeactivationsApplyWhileAMassOfMissingDisablesIsHeld() throws {
        let users = (1...100).map { user($0) }
        let store = try synced(users)
        // 3 users deactivated explicitly, 40 gone from the listing.
        let listing = users.prefix(60).enumerated().map { index, user in index < 3 ? self.user(index + 1, state: .inactive) : user }
        let plan = try Planner.plan(snapshot: snapshot(Array(listing)), stored: store.state, policy: SafetyPolicy())
        #expect(plan.verdict.holdsDisables)
        #expect(Set(plan.disablesToApply.map(\.workosID)) == ["user_1", "user_2", "user_3"])
        #expect(plan.heldDisables.count == 40)
        #expect(plan.heldDisables.allSatisfy { $0.reason == .missing })
        #expect(plan.summary.disables == 3 && plan.summary.held == 40)
    }

    @Test func approvalAppliesWhatTheFreshListingStillConfirmsAndRefusesOnlyAGrowingSet() throws {
        let users = (1...100).map { user($0) }
        let store = try synced(users)
        let first = try Planner.plan(snapshot: snapshot(Array(users.prefix(70))), stored: store.state, policy: SafetyPolicy())
        let held = HeldPlan(id: 9, directoryID: "directory_A", accounts: first.heldDisables.map(HeldAccount.init))
        // Two of the 30 came back before the approval: the other 28 are disabled, the two are not.
        let busier = try Planner.plan(snapshot: snapshot(Array(users.prefix(72))), stored: store.state, policy: SafetyPolicy())
        let approved = try busier.approving(held)
        #expect(approved.disablesToApply.count == 28)
        #expect(!approved.disablesToApply.contains { $0.workosID == "user_71" || $0.workosID == "user_72" })
    }

    @Test func aVanishedDirectoryUnderDisableStillGoesThroughTheGuard() throws {
        let store = try synced((1...100).map { user($0) })
        let policy = SafetyPolicy(onDirectoryRemoved: .disable)
        let plan = Planner.planDirectoryRemoved(directory: ModelWorld.directory, stored: store.state, policy: policy)
        #expect(plan.verdict == .hold(.directoryRemoved(accounts: 100)))
        #expect(plan.disablesToApply.isEmpty)
    }

    @Test func aThirtyPercentDropTripsTheGuardAndApprovalReleasesExactlyThatSet() throws {
        let users = (1...100).map { user($0) }
        var store = try synced(users)
        let plan = try Planner.plan(snapshot: snapshot(Array(users.prefix(70))), stored: store.state, policy: SafetyPolicy())
        #expect(plan.verdict == .hold(.massDisable(disables: 30, threshold: 25, activeAccounts: 100)))
        #expect(plan.disablesToApply.isEmpty)
        let held = HeldPlan(id: 7, directoryID: "directory_A", accounts: plan.disables.map(HeldAccount.init))

        let approved = try plan.approving(held)
        #expect(approved.verdict == .approved(heldPlanID: 7))
        #expect(approved.disablesToApply.count == 30)

        // One more leaver since the hold: the approval is stale and names the difference.
        let newer = try Planner.plan(snapshot: snapshot(Array(users.prefix(69))), stored: store.state, policy: SafetyPolicy())
        #expect(throws: StaleApproval.self) { try newer.approving(held) }
        do {
            _ = try newer.approving(held)
        } catch {
            #expect(error.added.map(\.workosID) == ["user_70"])
        }
        store.apply(approved)
        #expect(store.state.activeAccountCount == 70)
    }

    @Test func anEmptyListingIsAlwaysHeld() throws {
        let store = try synced([user(1), user(2)])
        let plan = try Planner.plan(snapshot: snapshot([]), stored: store.state, policy: SafetyPolicy(minUsers: 1_000))
        #expect(plan.verdict == .hold(.emptyListing(activeAccounts: 2)))
    }

    @Test func theAbsoluteCapHoldsEvenBelowTheProportionalThreshold() {
        let policy = SafetyPolicy(minUsers: 25, fraction: 0.5, maxUsers: 10)
        #expect(policy.threshold(activeAccounts: 1_000) == 10)
        #expect(policy.verdict(disables: 11, activeAccounts: 1_000, listedUsers: 989).holdsDisables)
        #expect(!policy.verdict(disables: 10, activeAccounts: 1_000, listedUsers: 990).holdsDisables)
    }

    @Test func aVanishedDirectoryIsHeldUnlessThePolicySaysDisable() throws {
        let store = try synced([user(1), user(2)])
        let held = Planner.planDirectoryRemoved(directory: ModelWorld.directory, stored: store.state, policy: SafetyPolicy())
        #expect(held.verdict == .hold(.directoryRemoved(accounts: 2)))
        #expect(held.disables.allSatisfy { $0.reason == .directoryRemoved })
        let disabling = Planner.planDirectoryRemoved(
            directory: ModelWorld.directory, stored: store.state, policy: SafetyPolicy(onDirectoryRemoved: .disable))
        #expect(disabling.disablesToApply.count == 2)
    }

    @Test func membershipChangesAreDiffedPerUser() throws {
        let store = try synced([user(1), user(2)], memberships: ["group_1": ["user_1"]])
        let plan = try Planner.plan(
            snapshot: snapshot([user(1), user(2)], memberships: ["group_1": ["user_2"]]), stored: store.state,
            policy: SafetyPolicy())
        #expect(plan.membershipAdds == [Membership(groupWorkOSID: "group_1", userWorkOSID: "user_2")])
        #expect(plan.existingAccountMembershipAdds == plan.membershipAdds)
        #expect(plan.membershipRemovals == [Membership(groupWorkOSID: "group_1", userWorkOSID: "user_1")])
        #expect(plan.summary.updates == 2)
    }

    /// Stored rows carry fingerprints written by earlier releases: the digest of
    /// known values must never change (or `Fingerprint.version` must be bumped).
    @Test func fingerprintsOfKnownValuesArePinned() {
        var pinned = DirectoryUser(
            id: "directory_user_01E64QTDNS0EGJ0FMCVY9BWGZT", directoryID: "directory_A", organizationID: "org_A",
            idpID: "00u1a2b3c4", email: "Zoë.Ångström@Example.com", firstName: "Zoe\u{0308}", lastName: "Ångström",
            username: "zoe", jobTitle: nil, state: .active,
            customAttributes: .object(["department": .string("R&D"), "level": .number(3), "tags": .array([.string("日本")])]),
            roleSlug: "member", updatedAt: Date(timeIntervalSince1970: 1_767_225_600.123))
        #expect(Fingerprint.of(user: pinned, groupIDs: ["directory_group_b", "directory_group_a"]).hex == "9ebc3712c1f3f4d521b1df225644fe32")
        pinned.email = nil
        #expect(Fingerprint.of(user: pinned, groupIDs: []).hex == "8f7643bc23751986fe3df9a61fdddddb")
        let group = DirectoryGroup(
            id: "directory_group_01E64QTDNS0EGJ0FMCVY9BWGZT", directoryID: "directory_A", organizationID: "org_A", idpID: "",
            name: "Ingeniería")
        #expect(Fingerprint.of(group: group).hex == "d5d503ea3c83cddf037861c38aec4876")
    }

    /// Fingerprints hash text below U+0300 without normalising it: that text must already be NFC.
    @Test func textBelowTheCombiningMarksIsAlreadyNFC() {
        let scalars = (0..<0x300).compactMap(Unicode.Scalar.init(_:))
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars)
        text.append(contentsOf: scalars.reversed())
        let string = String(text)
        #expect(string.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(string.unicodeScalars))
        #expect(string.utf8.allSatisfy { $0 < 0xCC } && "\u{0300}".utf8.first == 0xCC)
        // What normalisation does change starts at U+0300: a decomposed é still equals the composed one.
        var decomposed = user(1)
        decomposed.lastName = "Andre\u{0301}"
        var composed = user(1)
        composed.lastName = "Andr\u{00E9}"
        #expect(Fingerprint.of(user: decomposed, groupIDs: []) == Fingerprint.of(user: composed, groupIDs: []))
    }

    @Test func fingerprintsAreStableAndSeeEveryField() {
        let base = user(1)
        #expect(Fingerprint.of(user: base, groupIDs: ["b", "a"]) == Fingerprint.of(user: base, groupIDs: ["a", "b"]))
        #expect(Fingerprint.of(user: base, groupIDs: []) != Fingerprint.of(user: base, groupIDs: ["a"]))
        var changed = base
        changed.customAttributes = .object(["department": .string("R&D")])
        #expect(Fingerprint.of(user: base, groupIDs: []) != Fingerprint.of(user: changed, groupIDs: []))
        // NFC and NFD spellings of one name are the same person.
        var decomposed = base
        decomposed.firstName = "Pe\u{0301}rson"
        var composed = base
        composed.firstName = "P\u{00E9}rson"
        #expect(Fingerprint.of(user: decomposed, groupIDs: []) == Fingerprint.of(user: composed, groupIDs: []))
        #expect(Fingerprint.of(user: base, groupIDs: []).hex.count == 32)
        let stored = Fingerprint.of(user: base, groupIDs: ["a"])
        #expect(Fingerprint(hex: stored.hex) == stored, "the stored hex form reads back as the same fingerprint")
        for text in ["", "not a fingerprint", String(stored.hex.dropLast()), stored.hex.uppercased(), "+" + stored.hex.dropFirst()] {
            #expect(Fingerprint(hex: text) == nil, "\(text) is not a stored fingerprint: the row is rewritten")
        }
    }
}
