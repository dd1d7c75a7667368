import Foundation
import Store
import TestHelpers
import Testing
import WorkOSSimulator

/// The admin commands run as the real binary: output, `--format json` and
/// the documented exit codes (5 for a refusal, nothing changed).
extension CommandLineTests {
    @Test func conflictsRolesAndHoldCommandsPrintTheirChangesAndRefuseWithExitFive() async throws {
        let harness = try await Harness.start(users: 4, groups: 1)
        let user = try #require(harness.activeUsers().first { $0.email != nil })
        let conflict = try await AdminWorkflowTests().ambiguousConflict(harness, email: try #require(user.email))
        let environment = environment(harness).merging(["OWNER_URL": harness.databaseURL]) { $1 }

        let listed = try run(["conflicts", "list", "--format", "json"], environment: environment)
        #expect(listed.status == 0, "\(listed.errors)")
        let conflicts = try JSONDecoder.iso8601.decode([OpenLinkConflict].self, from: Data(listed.output.utf8))
        #expect(conflicts.map(\.accountID) == [conflict.account])
        #expect(conflicts.first?.reason == "ambiguous")

        let account = conflict.account.uuidString.lowercased()
        let person = conflict.persons[0].uuidString.lowercased()
        let both = try run(["conflicts", "resolve", account, "--person", person, "--new-person"], environment: environment)
        #expect(both.status == 64, "exactly one of --person and --new-person")
        let resolved = try run(["conflicts", "resolve", account, "--person", person], environment: environment)
        #expect(resolved.status == 0, "\(resolved.errors)")
        #expect(resolved.output.contains("can sign in to \(try #require(harness.simulator.directory(harness.directoryID)?.organizationID)): yes"))
        let again = try run(["conflicts", "resolve", account, "--new-person"], environment: environment)
        #expect(again.status == 5)
        #expect(again.errors.contains("no open link conflict"))
        #expect(try run(["conflicts", "list"], environment: environment).output.contains("0 open link conflicts."))

        let added = try run(
            ["roles", "add", "--directory", harness.directoryID, "--group-name", "Staff", "--role", "viewer",
             "--database-url-env", "OWNER_URL"], environment: environment)
        #expect(added.status == 0, "\(added.errors)")
        let roles = try run(["roles", "list", "--format", "json"], environment: environment)
        let mappings = try JSONDecoder.iso8601.decode([RoleMapping].self, from: Data(roles.output.utf8))
        #expect(mappings.map(\.role) == ["viewer"])
        let id = try #require(mappings.first?.id)
        #expect(try run(["roles", "remove", String(id)], environment: environment).status == 0)
        #expect(try run(["roles", "remove", String(id)], environment: environment).status == 5)

        let held = try run(["hold", "--person", person, "--reason", "case 42"], environment: environment)
        #expect(held.status == 0, "\(held.errors)")
        let status = try run(["status"], environment: environment)
        #expect(status.output.contains("legal hold: person \(person)"))
        #expect(try run(["unhold", "--person", person], environment: environment).status == 0)
        #expect(try run(["unhold", "--person", person], environment: environment).status == 5)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events
            WHERE type IN ('user.linked', 'role_mapping.added', 'role_mapping.removed', 'user.legal_hold_set', 'user.legal_hold_released')
            """) == 5)
        for command in [["conflicts", "list"], ["conflicts", "resolve"], ["roles", "add"], ["hold"], ["unhold"]] {
            let help = try run(command + ["--help"], environment: [:])
            #expect(help.status == 0)
            #expect(help.output.contains("--config"), "\(command) --help")
        }
        await harness.stop()
    }
}

extension JSONDecoder {
    /// A decoder for the commands' `--format json` (ISO 8601 dates).
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
