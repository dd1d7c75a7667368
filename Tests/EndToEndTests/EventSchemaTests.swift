import Foundation
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSModel
import WorkOSSimulator

/// `docs/event-schemas/<type>.json`: a JSON Schema for every event type the code writes,
/// checked against the payloads of real runs (provisioning, updates, email changes, groups,
/// memberships, roles, deprovisioning, reactivation, purge).
@Suite struct EventSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let schemaFolder = root.appendingPathComponent("docs/event-schemas")

    /// Event type names written by the code: every quoted `user.*`, `group.*` or `membership.*`
    /// literal in Sources/Store and sql/.
    static func typesInCode() throws -> Set<String> {
        var types: Set<String> = []
        for folder in ["Sources/Store", "sql"] {
            let directory = root.appendingPathComponent(folder)
            for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file != "EmbeddedMigrations.swift" {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                // In SQL ('user.created') and as Swift arguments of the admin commands ("role_mapping.added").
                for match in text.matches(of: /['"]((?:user|group|membership|role_mapping)\.[a-z_]+)['"]/) {
                    types.insert(String(match.output.1))
                }
            }
        }
        return types
    }

    static func schema(_ type: String) throws -> JSONSchemaSubset? {
        let url = schemaFolder.appendingPathComponent("\(type).json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard case .object(let schema) = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url)) else { return nil }
        return JSONSchemaSubset(schema)
    }

    @Test func everyEventTypeTheCodeWritesHasASchemaAndNoSchemaIsStale() throws {
        let types = try Self.typesInCode()
        #expect(types.count >= 12, "\(types.sorted())")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: Self.schemaFolder.path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(".json".count)) })
        #expect(types.subtracting(files).isEmpty, "types without a schema: \(types.subtracting(files).sorted())")
        #expect(files.subtracting(types).isEmpty, "schemas of no type: \(files.subtracting(types).sorted())")
        for type in types {
            let schema = try #require(try Self.schema(type), "\(type)")
            #expect(schema.schema["type"] == .string("object"), "\(type)")
            #expect(schema.schema["additionalProperties"] == .bool(false), "\(type): closed, so a new field needs a schema change")
        }
    }

    @Test func thePayloadsOfRealRunsMatchTheirSchemas() async throws {
        let harness = try await Harness.start(users: 8, groups: 2)
        let simulator = harness.simulator
        let directory = harness.directoryID
        let organization = try #require(simulator.directory(directory)?.organizationID)
        let groups = simulator.groups(in: directory)
        let users = harness.activeUsers()
        let project = simulator.createGroup(in: directory, name: "Project X")  // no members yet
        let members = Set(simulator.memberIDs(ofGroup: groups[0].id))
        let leaver = try #require(users.first { members.contains($0.id) })
        let joiner = try #require(users.first { $0.id != leaver.id })
        try await harness.sync()  // user.created, group.created
        let store = harness.runtime.store
        _ = try await store.addRoleMapping(
            RoleMappingKey(organizationID: organization, directoryID: nil, groupIdpID: groups[0].idpID, groupName: nil, role: "editor"),
            by: "tester")  // role_mapping.added
        let unused = try await store.addRoleMapping(
            RoleMappingKey(organizationID: nil, directoryID: directory, groupIdpID: nil, groupName: "Nobody's group", role: "viewer"),
            by: "tester")
        _ = try await store.removeRoleMapping(id: unused.id, by: "tester")  // role_mapping.removed
        simulator.addMembership(user: joiner.id, group: project)
        simulator.removeMembership(user: leaver.id, group: groups[0].id)
        let others = users.filter { $0.id != joiner.id && $0.id != leaver.id }
        simulator.updateUser(others[0].id, firstName: "Renamed", jobTitle: "Chief")
        simulator.changeEmail(others[1].id, to: "moved-\(others[1].idpID)@example.com")
        simulator.renameGroup(groups[1].id, to: "Renamed group")
        try await harness.sync()  // membership.*, user.roles_changed, user.updated, user.email_changed, group.updated
        simulator.setUserState(others[2].id, "inactive")
        simulator.deleteUser(others[3].id)
        simulator.deleteGroup(groups[1].id)
        try await harness.sync()  // user.disabled (inactive, missing; account and person), group.removed
        _ = simulator.rehireUser(idpID: others[3].idpID, in: directory)
        try await harness.sync()  // user.reactivated (account and person)
        let departed = try #require(try await harness.account(others[2].id)?.decode(UUID?.self, "user_id"))
        try await harness.runtime.store.connection.execute("""
            UPDATE workos_dsync.users SET disabled_at = now() - interval '40 days' WHERE id = \(departed)
            """)
        try await harness.runtime.store.connection.execute("""
            UPDATE workos_dsync.directory_users SET disabled_at = now() - interval '40 days' WHERE user_id = \(departed)
            """)
        // An imported person whose email two persons share: the account waits in a conflict, then is resolved (user.linked).
        let sharedEmail = "imported.twice@example.com"
        let imported = try await harness.rows("""
            INSERT INTO workos_dsync.users (email, first_name) VALUES (\(sharedEmail), 'Imported'), (\(sharedEmail.uppercased()), 'Duplicate')
            RETURNING id
            """).map { try $0.decode(UUID.self, "id") }
        let returning = harness.simulator.createUser(in: directory, email: sharedEmail, firstName: "Hired", lastName: "Twice")
        try await harness.sync()
        let conflicted = try #require(try await store.openConflicts().first { $0.workosID == returning })
        _ = try await store.resolveConflict(account: conflicted.accountID.uuidString, target: .existingPerson(imported[0]), resolvedBy: "tester")
        // A legal hold set and lifted (user.legal_hold_set, user.legal_hold_released).
        _ = try await store.placeLegalHold(person: imported[1], reason: "investigation 42", by: "tester")
        try await store.releaseLegalHold(person: imported[1], by: "tester")
        _ = try await harness.runtime.store.purge(olderThan: .seconds(31 * 86_400), coolingOff: .seconds(30 * 86_400), dryRun: false)

        let rows = try await harness.rows("SELECT id, type, payload::text AS payload FROM workos_dsync.events ORDER BY id")
        var seen: Set<String> = []
        for row in rows {
            let type = try row.decode(String.self, "type")
            let text = try row.decode(String.self, "payload")
            seen.insert(type)
            let schema = try #require(try Self.schema(type), "no schema for \(type)")
            let payload = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            let violations = schema.violations(of: payload)
            #expect(violations.isEmpty, "\(type) \(text): \(violations)")
        }
        let expected: Set<String> = [
            "user.created", "user.updated", "user.email_changed", "user.disabled", "user.reactivated", "user.roles_changed",
            "user.anonymized", "group.created", "group.updated", "group.removed", "membership.added", "membership.removed",
            "user.linked", "role_mapping.added", "role_mapping.removed", "user.legal_hold_set", "user.legal_hold_released",
        ]
        #expect(expected.subtracting(seen).isEmpty, "not produced: \(expected.subtracting(seen).sorted())")
        let causes = try await harness.rows("""
            SELECT DISTINCT payload ->> 'cause' AS cause FROM workos_dsync.events WHERE type = 'user.disabled' AND payload ? 'cause'
            """).map { try $0.decode(String.self, "cause") }
        #expect(Set(causes) == ["inactive", "missing"])
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events WHERE payload ->> 'scope' = 'person'") >= 2)
        await harness.stop()
    }
}
