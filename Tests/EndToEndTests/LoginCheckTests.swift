import Foundation
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// `workos_dsync.login_check(organization_id, idp_id, email)` on a real server, called as the
/// application's role: what SSO returns finds the person in that organization only; a
/// deprovisioned person is refused; roles come from the role mappings.
@Suite struct LoginCheckTests {
    struct Verdict: Equatable {
        var person: UUID?
        var allowed: Bool
        var roles: String
    }

    func check(_ connection: PostgresConnection, _ organization: String, idp: String?, email: String?) async throws -> Verdict {
        let rows = try await connection.query("""
            SELECT person_id, allowed, array_to_string(roles, ',') AS roles
            FROM workos_dsync.login_check(\(organization), \(idp), \(email))
            """)
        #expect(rows.count == 1, "always one row")
        return Verdict(
            person: try rows[0].decode(UUID?.self, "person_id"), allowed: try rows[0].decode(Bool.self, "allowed"),
            roles: try rows[0].decode(String.self, "roles"))
    }

    @Test func ssoAnswersFindThePersonInTheirOrganizationOnlyAndADisabledPersonIsRefused() async throws {
        let harness = try await Harness.start(users: 4, groups: 1, directories: 2)
        let (a, b) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        let organizationA = try #require(harness.simulator.directory(a)?.organizationID)
        let organizationB = try #require(harness.simulator.directory(b)?.organizationID)
        let group = try #require(harness.simulator.groups(in: a).first)
        let user = try #require(harness.simulator.users(in: a).first { $0.email != nil })
        let email = try #require(user.email)
        harness.simulator.addMembership(user: user.id, group: group.id)
        // Customer B lists somebody with the same email (not linked to A's person: a conflict).
        let namesake = harness.simulator.createUser(in: b, email: email.uppercased(), firstName: "Other", lastName: "Person")
        try await harness.sync()
        let owner = harness.runtime.store.connection
        try await owner.execute("""
            INSERT INTO workos_dsync.role_mappings (organization_id, group_idp_id, role)
            VALUES (\(organizationA), \(group.idpID), 'editor'), (\(organizationA), \(group.idpID), 'author'),
                   (\(organizationB), \(group.idpID), 'owner')
            """)
        try await Harness.createRoles(on: owner)
        let app = try await PostgresConnection.connect(harness.databaseURL, logger: harness.logger)
        try await app.execute(PostgresQuery(unsafeSQL: "SET ROLE workos_dsync_reader"))
        let person = try #require(try await harness.account(user.id)?.decode(UUID?.self, "user_id"))

        let byIdp = try await check(app, organizationA, idp: user.idpID, email: nil)
        #expect(byIdp == Verdict(person: person, allowed: true, roles: "author,editor"))
        let byEmail = try await check(app, organizationA, idp: "not-an-idp-id", email: email.uppercased())
        #expect(byEmail == byIdp, "case-insensitive email within the organization")
        // The same idp_id and email in another organization: never A's person.
        let elsewhere = try await check(app, organizationB, idp: user.idpID, email: email)
        #expect(elsewhere.person != person)
        #expect(!elsewhere.allowed)
        #expect(elsewhere.roles.isEmpty)
        #expect(try await harness.account(namesake)?.decode(UUID?.self, "user_id") == nil)
        #expect(try await check(app, "org_unknown", idp: user.idpID, email: email) == Verdict(person: nil, allowed: false, roles: ""))

        // Deprovisioned: found, refused, no roles.
        harness.simulator.deleteUser(user.id)
        try await harness.sync()
        #expect(try await check(app, organizationA, idp: user.idpID, email: email) == Verdict(person: person, allowed: false, roles: ""))
        await app.close()
        await harness.stop()
    }
}
