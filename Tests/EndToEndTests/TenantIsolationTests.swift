import Daemon
import Foundation
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

/// One customer's directory never links, changes or disables another
/// customer's people, and an `idp_id` reused by the identity provider never
/// hands a departed person's history to somebody else.
@Suite struct TenantIsolationTests {
    func conflictReasons(_ harness: Harness, workosID: String) async throws -> [String] {
        try await harness.rows("""
            SELECT c.reason FROM workos_dsync.link_conflicts c JOIN workos_dsync.directory_users d ON d.id = c.directory_user_id
            WHERE d.workos_id = \(workosID) AND c.resolved_at IS NULL ORDER BY c.id
            """).map { try $0.decode(String.self, "reason") }
    }

    func canSignIn(_ harness: Harness, _ person: UUID, _ organizationID: String) async throws -> Bool {
        try await harness.rows("SELECT workos_dsync.can_sign_in(\(person), \(organizationID)) AS ok")[0].decode(Bool.self, "ok")
    }

    @Test func anotherCustomersDirectoryListingYourCEOGetsAConflictNotALink() async throws {
        let harness = try await Harness.start(users: 5, groups: 1, directories: 2)
        let (a, b) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        let organizationA = try #require(harness.simulator.directory(a)?.organizationID)
        let organizationB = try #require(harness.simulator.directory(b)?.organizationID)
        #expect(organizationA != organizationB)
        let ceoEmail = "ceo@\(try #require(harness.simulator.directory(a)?.domain))"
        let ceo = harness.simulator.createUser(in: a, email: ceoEmail, firstName: "Cee", lastName: "Eo")
        try await harness.sync()
        let ceoPerson = try #require(try await harness.account(ceo)?.decode(UUID?.self, "user_id"))

        // Customer B's directory lists the same email, with other names.
        let impostor = harness.simulator.createUser(in: b, email: ceoEmail.uppercased(), firstName: "Mallory", lastName: "B")
        let reports = try await harness.sync()
        #expect(reports.allSatisfy { $0.outcome == .applied || $0.outcome == .unchanged }, "\(reports.map(\.detail))")
        let account = try #require(try await harness.account(impostor))
        #expect(try account.decode(UUID?.self, "user_id") == nil, "B's account is not linked to A's person")
        #expect(try await conflictReasons(harness, workosID: impostor) == ["other_organization"])
        let person = try await harness.person(ceoPerson)
        #expect(try person.decode(String?.self, "email") == ceoEmail)
        #expect(try person.decode(String?.self, "first_name") == "Cee")
        #expect(try person.decode(String.self, "status") == "active")
        #expect(try await canSignIn(harness, ceoPerson, organizationA))
        #expect(try await !canSignIn(harness, ceoPerson, organizationB))
        // Customer B deprovisions its user: A's CEO keeps access.
        harness.simulator.deleteUser(impostor)
        try await harness.sync()
        #expect(try await harness.person(ceoPerson).decode(String.self, "status") == "active")
        await harness.stop()
    }

    @Test func aDirectoryNeverRewritesTheProfileOfAPersonActiveInAnotherOrganization() async throws {
        let harness = try await Harness.start(users: 5, groups: 1, directories: 2)
        let (a, b) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        // A contractor of A whose email is in B's domain: B may link it (the domain is B's).
        let email = "contractor@\(try #require(harness.simulator.directory(b)?.domain))"
        let inA = harness.simulator.createUser(in: a, email: email, firstName: "Con", lastName: "Tractor")
        try await harness.sync()
        let inB = harness.simulator.createUser(in: b, email: email, firstName: "Con", lastName: "Tractor")
        try await harness.sync()
        let person = try #require(try await harness.account(inA)?.decode(UUID?.self, "user_id"))
        #expect(try await harness.account(inB)?.decode(UUID?.self, "user_id") == person)

        // B renames them: A's active account keeps the person's names; the clash waits for an admin.
        harness.simulator.updateUser(inB, firstName: "Renamed")
        try await harness.sync()
        #expect(try await harness.person(person).decode(String?.self, "first_name") == "Con")
        #expect(try await harness.account(inB)?.decode(String?.self, "first_name") == "Renamed")
        #expect(try await conflictReasons(harness, workosID: inB) == ["profile_elsewhere"])
        await harness.stop()
    }

    @Test func aReusedIdpIDIsANewAccountWithAConflictNeverTheOldPersonsHistory() async throws {
        let harness = try await Harness.start(users: 6, groups: 1)
        let leaver = harness.simulator.createUser(
            in: harness.directoryID, email: "leaver@example.com", firstName: "Lea", lastName: "Ver", idpID: "EMP-1")
        try await harness.sync()
        let oldPerson = try #require(try await harness.account(leaver)?.decode(UUID?.self, "user_id"))
        harness.simulator.deleteUser(leaver)
        try await harness.sync()
        #expect(try await harness.account(leaver)?.decode(String.self, "status") == "disabled")

        // The identity provider gives employee number EMP-1 to a new hire.
        let hire = harness.simulator.createUser(
            in: harness.directoryID, email: "hire@example.com", firstName: "New", lastName: "Hire", idpID: "EMP-1")
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .applied, "\(reports[0].detail ?? "")")
        let newAccount = try #require(try await harness.account(hire))
        #expect(try newAccount.decode(UUID?.self, "user_id") == nil)
        #expect(try newAccount.decode(String.self, "idp_id") == "EMP-1")
        #expect(try await conflictReasons(harness, workosID: hire) == ["idp_id_reused"])
        let old = try #require(try await harness.account(leaver))
        #expect(try old.decode(String.self, "status") == "disabled")
        #expect(try old.decode(String.self, "idp_id") != "EMP-1")
        #expect(try await harness.person(oldPerson).decode(String.self, "status") == "disabled")
        #expect(try await harness.person(oldPerson).decode(String?.self, "email") == "leaver@example.com")
        // The same again changes nothing.
        #expect(try await harness.sync()[0].outcome == .unchanged)
        await harness.stop()
    }
}

extension Harness {
    /// The `users` row of a person.
    func person(_ id: UUID) async throws -> PostgresRow {
        try await rows("SELECT * FROM workos_dsync.users WHERE id = \(id)")[0]
    }
}
