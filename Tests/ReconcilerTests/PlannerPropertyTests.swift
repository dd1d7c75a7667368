import Foundation
import PropertyBased
import Reconciler
import Testing
import WorkOSModel

/// Properties of the planner over generated listings (swift-property-based).
@Suite struct PlannerPropertyTests {
    static let listing = Gen.int(in: 0...7679).array(of: 0...30)

    @Test func applyingAPlanThenPlanningAgainYieldsAnEmptyPlan() async {
        await propertyCheck(count: 300, input: Self.listing, Self.listing, Gen.bool) { first, second, rename in
            var store = ModelStore()
            store.apply(try! Planner.plan(snapshot: ModelWorld.snapshot(first), stored: store.state, policy: ModelWorld.permissive))
            let snapshot = ModelWorld.snapshot(second, renameGroups: rename)
            // An empty listing is held even by a permissive guard; approve it like an admin would.
            store.apply(try! Planner.plan(snapshot: snapshot, stored: store.state, policy: ModelWorld.permissive).approvingEverything())
            let again = try! Planner.plan(snapshot: snapshot, stored: store.state, policy: ModelWorld.permissive)
            #expect(again.isEmpty, "second plan: \(again.summary.line)")
        }
    }

    @Test func loadingOnlyTheMembershipsOfChangedAccountsPlansTheSame() async {
        await propertyCheck(count: 300, input: Self.listing, Self.listing, Gen.bool) { first, second, rename in
            var store = ModelStore()
            store.apply(try! Planner.plan(snapshot: ModelWorld.snapshot(first), stored: store.state, policy: ModelWorld.permissive))
            let snapshot = ModelWorld.snapshot(second, renameGroups: rename)
            let needed = Set(Planner.storedRowsNeeded(PreparedListing(snapshot), accounts: store.state.accounts).membershipsOf)
            var partial = store.state
            let neededWorkOSIDs = Set(partial.accounts.filter { needed.contains($0.id) }.map(\.workosID))
            partial.memberships = partial.memberships.filter { neededWorkOSIDs.contains($0.key) }
            let full = try! Planner.plan(snapshot: snapshot, stored: store.state, policy: ModelWorld.permissive)
            let fromPartial = try! Planner.plan(snapshot: snapshot, stored: partial, policy: ModelWorld.permissive)
            #expect(fromPartial == full, "memberships of \(needed.count) of \(partial.accounts.count) accounts")
            // Only written accounts need them: an unchanged listing needs none.
            #expect(needed == Set(full.accountWrites.compactMap(\.accountID)))
        }
    }

    @Test func fingerprintsComputedInParallelChunksAreTheSame() async throws {
        // 12,000 users: several chunks of the parallel preparation.
        let users = (0..<12_000).map { index in
            DirectoryUser(
                id: "user_\(index)", directoryID: ModelWorld.directory.id, organizationID: "org_A", idpID: "idp_\(index)",
                email: "person\(index)@acme.test", firstName: "Pérson", lastName: "\(index)", state: index % 7 == 0 ? .inactive : .active)
        }
        let groups = (0..<4).map { DirectoryGroup(id: "group_\($0)", directoryID: ModelWorld.directory.id, organizationID: "org_A", idpID: "g\($0)", name: "G\($0)") }
        let memberships = Dictionary(uniqueKeysWithValues: groups.enumerated().map { offset, group in
            (group.id, users.indices.filter { $0 % (offset + 2) == 0 }.map { users[$0].id })
        })
        let snapshot = DirectorySnapshot(directory: ModelWorld.directory, users: users, groups: groups, memberships: memberships)
        let parallel = try Planner.plan(await PreparedListing.prepare(snapshot), stored: StoredState(directoryID: ModelWorld.directory.id), policy: SafetyPolicy())
        let serial = try Planner.plan(snapshot: snapshot, stored: StoredState(directoryID: ModelWorld.directory.id), policy: SafetyPolicy())
        #expect(parallel == serial)
        #expect(Set(parallel.accountWrites.map(\.fingerprint)).count == users.count)
    }

    /// The absence debounce: with `missingAfterListings = k`, the same listing
    /// planned and applied k − 1 times disables nobody as `missing` (each
    /// absent account counted 1, 2, … of k), and the k-th plan disables
    /// exactly the accounts the undebounced planner disables at once; explicit
    /// deactivations are never delayed.
    @Test func absentAccountsAreDisabledOnlyAfterTheConfiguredNumberOfListings() async {
        await propertyCheck(count: 200, input: Self.listing, Self.listing, Gen.int(in: 2...4)) { first, second, needed in
            var debounced = ModelWorld.permissive
            debounced.missingAfterListings = needed
            var store = ModelStore()
            store.apply(try! Planner.plan(snapshot: ModelWorld.snapshot(first), stored: store.state, policy: debounced))
            let snapshot = ModelWorld.snapshot(second)
            let undebounced = try! Planner.plan(snapshot: snapshot, stored: store.state, policy: ModelWorld.permissive)
            let missing = Set(undebounced.disables.filter { $0.reason == .missing }.map(\.accountID))
            let inactive = Set(undebounced.disables.filter { $0.reason == .inactive }.map(\.accountID))
            for listing in 1..<needed {
                let plan = try! Planner.plan(snapshot: snapshot, stored: store.state, policy: debounced)
                #expect(plan.disables.allSatisfy { $0.reason != .missing }, "listing \(listing) of \(needed)")
                #expect(Set(plan.pendingAbsences.map(\.accountID)) == missing)
                #expect(plan.pendingAbsences.allSatisfy { $0.absences == listing && $0.needed == needed })
                if listing == 1 { #expect(Set(plan.disables.map(\.accountID)) == inactive) }
                store.apply(plan.approvingEverything())
            }
            let last = try! Planner.plan(snapshot: snapshot, stored: store.state, policy: debounced)
            #expect(Set(last.disables.filter { $0.reason == .missing }.map(\.accountID)) == missing)
            #expect(last.pendingAbsences.isEmpty)
        }
    }

    @Test func anActiveUserPresentInTheListingIsNeverDisabled() async {
        await propertyCheck(count: 300, input: Self.listing, Self.listing) { first, second in
            var store = ModelStore()
            store.apply(try! Planner.plan(snapshot: ModelWorld.snapshot(first), stored: store.state, policy: ModelWorld.permissive))
            let snapshot = ModelWorld.snapshot(second)
            let plan = try! Planner.plan(snapshot: snapshot, stored: store.state, policy: SafetyPolicy())
            store.apply(plan.approvingEverything())
            let activeListed = snapshot.users.filter { $0.state.isActive }
            for user in activeListed {
                let account = store.state.accounts.first { $0.workosID == user.id }
                #expect(account?.status == .active, "\(user.id) is active in the listing")
            }
            let disabledIDs = Set(plan.disables.map(\.workosID))
            #expect(disabledIDs.isDisjoint(with: activeListed.map(\.id)))
        }
    }

    @Test func rehireUnderANewWorkOSIDNeverDuplicatesAnAccount() async {
        await propertyCheck(count: 300, input: Self.listing, Self.listing) { first, second in
            var store = ModelStore()
            for codes in [first, second] {
                store.apply(try! Planner.plan(snapshot: ModelWorld.snapshot(codes), stored: store.state, policy: ModelWorld.permissive))
            }
            let idps = store.state.accounts.map(\.idpID)
            #expect(Set(idps).count == idps.count, "one account per (directory, idp_id)")
            let ids = store.state.accounts.map(\.workosID)
            #expect(Set(ids).count == ids.count)
        }
    }

    @Test func planningOneDirectoryNeverTouchesAnotherDirectorysAccounts() async {
        await propertyCheck(count: 200, input: Self.listing, Self.listing) { first, second in
            var storeA = ModelStore(directoryID: "directory_A")
            var storeB = ModelStore(directoryID: "directory_B")
            storeA.apply(try! Planner.plan(snapshot: ModelWorld.snapshot(first), stored: storeA.state, policy: ModelWorld.permissive))
            storeB.apply(try! Planner.plan(
                snapshot: ModelWorld.snapshot(first, directoryID: "directory_B"), stored: storeB.state,
                policy: ModelWorld.permissive))
            let plan = try! Planner.plan(snapshot: ModelWorld.snapshot(second), stored: storeA.state, policy: ModelWorld.permissive)
            let touched = Set(plan.disables.map(\.accountID) + plan.accountWrites.compactMap(\.accountID))
            #expect(touched.isSubset(of: Set(storeA.state.accounts.map(\.id))))
            #expect(plan.disables.allSatisfy { disable in
                storeA.state.accounts.contains { $0.id == disable.accountID && $0.workosID == disable.workosID }
            })
        }
    }

    @Test func disablesNeverExceedTheGuardUnlessHeld() async {
        await propertyCheck(count: 300, input: Self.listing, Self.listing, Gen.int(in: 0...5)) { first, second, minUsers in
            var store = ModelStore()
            store.apply(try! Planner.plan(snapshot: ModelWorld.snapshot(first), stored: store.state, policy: ModelWorld.permissive))
            let policy = SafetyPolicy(minUsers: minUsers, fraction: 0.1)
            let plan = try! Planner.plan(snapshot: ModelWorld.snapshot(second), stored: store.state, policy: policy)
            let threshold = policy.threshold(activeAccounts: store.state.activeAccountCount)
            if plan.disables.count > threshold || (second.isEmpty && store.state.activeAccountCount > 0 && !plan.disables.isEmpty) {
                #expect(plan.verdict.holdsDisables)
                // Only explicit deactivations within the threshold go ahead while the rest is held.
                #expect(plan.disablesToApply.allSatisfy { $0.reason == .inactive })
                #expect(plan.disablesToApply.count <= threshold)
                #expect(plan.heldDisables.allSatisfy { !plan.disablesToApply.contains($0) })
            } else {
                #expect(!plan.verdict.holdsDisables)
            }
        }
    }
}

extension Plan {
    /// The plan as if an admin approved its held disables.
    func approvingEverything() -> Plan {
        guard verdict.holdsDisables else { return self }
        return try! approving(HeldPlan(id: 1, directoryID: directory.id, accounts: disables.map(HeldAccount.init)))
    }
}
