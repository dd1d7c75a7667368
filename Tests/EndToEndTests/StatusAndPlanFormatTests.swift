import Foundation
import Store
import TestHelpers
import Testing
import WorkOSSimulator

/// `status` (table and JSON, exit 3 held / 4 stale) and `plan --format json`
/// (structured changes), as the real binary.
extension CommandLineTests {
    func jsonObject(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func statusIsATableOrJSONAndExitsThreeWhileAPlanIsHeldAndFourWhenAListingIsStale() async throws {
        let harness = try await Harness.start(users: 40, groups: 1)
        let env = environment(harness)
        #expect(try run(["sync", "--once"], environment: env).status == 0)

        let table = try run(["status"], environment: env)
        #expect(table.status == 0, "\(table.output)\(table.errors)")
        let lines = table.output.split(separator: "\n")
        #expect(lines.first?.hasPrefix("DIRECTORY") == true && lines.first?.contains("LAST COMPLETE LISTING") == true, "\(table.output)")
        let row = try #require(lines.first { $0.hasPrefix(harness.directoryID) })
        #expect(row.contains("applied") && row.contains(" 40 "), "\(row)")

        try await harness.rows("""
            INSERT INTO workos_dsync.link_conflicts (directory_user_id, email)
            SELECT id, email FROM workos_dsync.directory_users ORDER BY id LIMIT 1
            """)
        let clean = try run(["status", "--format", "json"], environment: env)
        #expect(clean.status == 0)
        let cleanJSON = try jsonObject(clean.output)
        let directory = try #require((cleanJSON["directories"] as? [[String: Any]])?.first)
        #expect(directory["id"] as? String == harness.directoryID)
        #expect(directory["active_accounts"] as? Int == 40)
        #expect(directory["open_conflicts"] as? Int == 1)
        #expect(directory["stale"] as? Bool == false)
        #expect((directory["last_run"] as? [String: Any])?["outcome"] as? String == "applied")
        #expect(cleanJSON["exit_code"] as? Int == 0)

        for user in harness.activeUsers().prefix(30) { harness.simulator.deleteUser(user.id) }
        #expect(try run(["sync", "--once"], environment: env).status == 3)
        let held = try run(["status", "--format", "json"], environment: env)
        #expect(held.status == 3, "a held plan waits for approve: \(held.output)")
        let heldJSON = try jsonObject(held.output)
        #expect(heldJSON["held_plans"] as? Int == 1)
        let heldPlans = try #require((heldJSON["directories"] as? [[String: Any]])?.first?["held_plans"] as? [[String: Any]])
        #expect(heldPlans.first?["accounts"] as? Int == 30)
        let heldTable = try run(["status"], environment: env)
        #expect(heldTable.status == 3)
        #expect(heldTable.output.contains("HELD plan") && heldTable.output.contains("(exit 3)"))

        try await harness.rows("UPDATE workos_dsync.directories SET last_complete_sync_at = now() - interval '2 hours'")
        let stale = try run(["status"], environment: env)
        #expect(stale.status == 4, "a listing older than http.max_listing_age (30m): \(stale.output)")
        #expect(stale.output.contains("STALE"))
        var longer = env
        longer["WORKOS_DSYNC_HTTP_MAX_LISTING_AGE"] = "3h"
        #expect(try run(["status"], environment: longer).status == 3, "within a longer http.max_listing_age only the hold counts")
        let staleJSON = try jsonObject(try run(["status", "--format", "json"], environment: env).output)
        #expect(staleJSON["stale_directories"] as? [String] == [harness.directoryID])
        await harness.stop()
    }

    @Test func planAsJSONListsEachChangeAsDataWithTheVerdictAndCounts() async throws {
        let harness = try await Harness.start(users: 40, groups: 1)
        let env = environment(harness)
        #expect(try run(["sync", "--once"], environment: env).status == 0)
        let users = harness.activeUsers().filter { $0.email != nil }
        let (leaver, mover) = (users[0], users[1])
        harness.simulator.deleteUser(leaver.id)
        harness.simulator.changeEmail(mover.id, to: "moved-\(mover.id.suffix(6))@example.test")

        let plan = try run(["plan", "--format", "json"], environment: env)
        #expect(plan.status == 0, "\(plan.errors)")
        let directory = try #require(try JSONSerialization.jsonObject(with: Data(plan.output.utf8)) as? [[String: Any]]).first
        #expect(directory?["verdict"] as? String == "proceed")
        #expect(directory?["disables"] as? Int == 1)
        #expect(directory?["held_disables"] as? Int == 0)
        let changes = try #require(directory?["changes"] as? [[String: Any]])
        let disable = try #require(changes.first { $0["kind"] as? String == "disable_account" })
        #expect(disable["workos_id"] as? String == leaver.id)
        #expect(disable["email"] as? String == leaver.email)
        #expect(disable["reason"] as? String == "missing")
        #expect(disable["held"] as? Bool == false)
        #expect((disable["account_id"] as? String)?.count == 36)
        #expect(disable["last_listed_run_id"] as? Int != nil)
        let update = try #require(changes.first { $0["kind"] as? String == "update_account" })
        #expect(update["workos_id"] as? String == mover.id)
        #expect(update["idp_id"] as? String == mover.idpID)
        let email = try #require((update["fields"] as? [String: Any])?["email"] as? [String: Any])
        #expect(email["old"] as? String == mover.email)
        #expect(email["new"] as? String == "moved-\(mover.id.suffix(6))@example.test")
        #expect((directory?["lines"] as? [String])?.contains { $0.hasPrefix("would disable \(leaver.email!)") } == true)

        for user in harness.activeUsers().prefix(30) { harness.simulator.deleteUser(user.id) }
        let massive = try run(["plan", "--format", "json"], environment: env)
        let heldPlan = try #require(try JSONSerialization.jsonObject(with: Data(massive.output.utf8)) as? [[String: Any]]).first
        #expect(heldPlan?["verdict"] as? String == "hold")
        #expect(heldPlan?["hold_code"] as? String == "mass_disable")
        #expect(heldPlan?["held_disables"] as? Int == 31)
        let heldChanges = (heldPlan?["changes"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "disable_account" }
        #expect(heldChanges.count == 31 && heldChanges.allSatisfy { $0["held"] as? Bool == true })
        await harness.stop()
    }
}
