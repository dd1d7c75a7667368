import Daemon
import Foundation
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

/// "One bad record never blocks a directory": a hostile user record is
/// repaired or quarantined, and the directory's other leavers are still
/// disabled in the same run.
@Suite struct QuarantineTests {
    /// A synced directory of 20 users whose first two active users then leave
    /// (deleted in WorkOS); `victim` is the third.
    struct Scene {
        let harness: Harness
        let leavers: [SimulatedUser]
        let victim: SimulatedUser
        let other: SimulatedUser

        static func start() async throws -> Scene {
            let harness = try await Harness.start(users: 20, groups: 3)
            try await harness.sync()
            let active = harness.activeUsers()
            for user in active.prefix(2) { harness.simulator.deleteUser(user.id) }
            return Scene(harness: harness, leavers: Array(active.prefix(2)), victim: active[2], other: active[3])
        }

        /// The victim's record with members replaced (raw JSON values) or dropped.
        func record(_ replaced: [String: [UInt8]] = [:], dropping: Set<String> = []) -> [UInt8] {
            let user = victim
            func text(_ value: String?) -> [UInt8] { value.map { Array("\"\($0)\"".utf8) } ?? Array("null".utf8) }
            let members: [(String, [UInt8])] = [
                ("object", text("directory_user")), ("id", text(user.id)), ("directory_id", text(user.directoryID)),
                ("organization_id", text(user.organizationID)), ("idp_id", text(user.idpID)), ("email", text(user.email)),
                ("first_name", text(user.firstName)), ("last_name", text(user.lastName)), ("state", text(user.state)),
            ]
            let fields = members.filter { !dropping.contains($0.0) }.map { key, value in
                Array("\"\(key)\":".utf8) + (replaced[key] ?? value)
            }
            return Array("{".utf8) + Array(fields.joined(separator: Array(",".utf8))) + Array("}".utf8)
        }

        /// Syncs once and checks what every case shares: the run applied, the leavers are disabled.
        func sync() async throws -> DirectoryReport {
            let report = try await harness.sync()[0]
            #expect(report.outcome == .applied, "\(report.detail ?? "")")
            for leaver in leavers {
                let account = try #require(try await harness.account(leaver.id))
                #expect(try account.decode(String.self, "status") == "disabled")
                #expect(try account.decode(String?.self, "disabled_reason") == "missing")
            }
            return report
        }

        /// The columns a write would change, for "left exactly as it was".
        func state(of user: SimulatedUser) async throws -> [String?] {
            let row = try #require(try await harness.rows("""
                SELECT status, first_name, idp_id, fingerprint, updated_at::text AS updated, last_seen_at::text AS seen
                FROM workos_dsync.directory_users WHERE workos_id = \(user.id)
                """).first)
            return try ["status", "first_name", "idp_id", "fingerprint", "updated", "seen"].map { try row.decode(String?.self, $0) }
        }

        /// The run row: `counts.quarantined` and `error`.
        func lastRun() async throws -> (quarantined: Int, error: String?) {
            let row = try await harness.rows("""
                SELECT (counts->>'quarantined')::int AS quarantined, error FROM workos_dsync.sync_runs ORDER BY id DESC LIMIT 1
                """)[0]
            return (try row.decode(Int.self, "quarantined"), try row.decode(String?.self, "error"))
        }
    }

    /// The victim's record, spoilt by `spoil`, is quarantined: its account is left as it was.
    func expectQuarantined(reason: String, _ spoil: (Scene) -> Void) async throws {
        let scene = try await Scene.start()
        let before = try await scene.state(of: scene.victim)
        scene.harness.simulator.updateUser(scene.victim.id, firstName: "Changed")
        spoil(scene)
        let report = try await scene.sync()
        #expect(try await scene.state(of: scene.victim) == before, "neither updated nor disabled")
        #expect(report.summary?.line == "2 disables, 1 quarantined")
        let run = try await scene.lastRun()
        #expect(run.quarantined == 1)
        #expect(run.error?.hasPrefix("1 quarantined: \(scene.victim.id): \(reason)") == true, "\(run.error ?? "")")
        #expect(report.detail == run.error)
        await scene.harness.stop()
    }

    @Test func aUserWithoutAStateIsQuarantined() async throws {
        try await expectQuarantined(reason: "undecodable user record (missing key state") { scene in
            scene.harness.simulator.overrideUserListing(scene.victim.id, .raw(scene.record(dropping: ["state"])))
        }
    }

    @Test func aUserOfAnotherDirectoryOnThePageIsQuarantined() async throws {
        try await expectQuarantined(reason: "belongs to directory directory_elsewhere") { scene in
            let foreign = scene.record(["directory_id": Array(#""directory_elsewhere""#.utf8)])
            scene.harness.simulator.overrideUserListing(scene.victim.id, .raw(foreign))
        }
    }

    @Test func usersSharingAnIdpIDAreBothQuarantined() async throws {
        let scene = try await Scene.start()
        let before = [try await scene.state(of: scene.victim), try await scene.state(of: scene.other)]
        scene.harness.simulator.changeIdpID(scene.other.id, to: scene.victim.idpID)
        let report = try await scene.sync()
        #expect([try await scene.state(of: scene.victim), try await scene.state(of: scene.other)] == before)
        #expect(report.summary?.line == "2 disables, 2 quarantined")
        let run = try await scene.lastRun()
        #expect(run.quarantined == 2)
        #expect(run.error?.hasPrefix("2 quarantined: ") == true)
        #expect(run.error?.contains("duplicate idp_id \(scene.victim.idpID)") == true)
        await scene.harness.stop()
    }

    @Test func aRecordWithoutAnIDHoldsTheDisablesOfMissingUsersOnly() async throws {
        let scene = try await Scene.start()
        let anonymous = scene.record(dropping: ["id"])
        scene.harness.simulator.overrideUserListing(scene.victim.id, .raw(anonymous))
        scene.harness.simulator.updateUser(scene.other.id, firstName: "Renamed")
        let report = try await scene.harness.sync()[0]
        #expect(report.outcome == .applied)
        #expect(report.summary?.line == "1 update, 1 quarantined")
        for user in scene.leavers + [scene.victim] {
            #expect(try await scene.harness.account(user.id)?.decode(String.self, "status") == "active", "nobody disabled as missing")
        }
        #expect(try await scene.harness.account(scene.other.id)?.decode(String?.self, "first_name") == "Renamed")
        #expect(try await scene.lastRun().error?.hasPrefix("1 quarantined (disables of missing users held") == true)

        // Once the record is whole again, the leavers go.
        scene.harness.simulator.overrideUserListing(scene.victim.id, nil)
        _ = try await scene.sync()
        await scene.harness.stop()
    }

    @Test func aMemberHiredWhileTheListingRanIsSkippedThisRun() async throws {
        let scene = try await Scene.start()
        let simulator = scene.harness.simulator
        let hire = simulator.createUser(in: scene.harness.directoryID, email: "hire@example.com", firstName: "New", lastName: "Hire")
        simulator.addMembership(user: hire, group: simulator.groups(in: scene.harness.directoryID)[0].id)
        simulator.overrideUserListing(hire, .omitted)
        let report = try await scene.sync()
        #expect(report.summary?.line.hasPrefix("2 disables") == true)
        #expect(try await scene.harness.account(hire) == nil)
        #expect(try await scene.lastRun().quarantined == 0)

        simulator.overrideUserListing(hire, nil)
        try await scene.harness.sync()
        #expect(try await scene.harness.account(hire)?.decode(String.self, "status") == "active")
        await scene.harness.stop()
    }

    @Test func usersWithoutAnIdpIDAreStoredWithNoneAndApply() async throws {
        let scene = try await Scene.start()
        scene.harness.simulator.changeIdpID(scene.victim.id, to: "")
        scene.harness.simulator.changeIdpID(scene.other.id, to: "")
        let report = try await scene.sync()
        #expect(report.summary?.updates == 2)
        for user in [scene.victim, scene.other] {
            #expect(try await scene.harness.account(user.id)?.decode(String?.self, "idp_id") == nil)
        }
        #expect(try await scene.lastRun().quarantined == 0)
        await scene.harness.stop()
    }

    /// The victim's first name arrives as these raw JSON bytes; the record is repaired and applied.
    func expectRepaired(_ firstName: [UInt8], storedAs expected: String) async throws {
        let scene = try await Scene.start()
        scene.harness.simulator.overrideUserListing(scene.victim.id, .raw(scene.record(["first_name": firstName])))
        let report = try await scene.sync()
        #expect(report.summary?.updates == 1)
        #expect(try await scene.harness.account(scene.victim.id)?.decode(String?.self, "first_name") == expected)
        #expect(try await scene.lastRun().quarantined == 0)
        await scene.harness.stop()
    }

    @Test func invalidUTF8IsStoredAsReplacementCharacters() async throws {
        try await expectRepaired([0x22, 0x52, 0x65, 0x6E, 0xE9, 0x22], storedAs: "Ren\u{FFFD}")
    }

    @Test func aLoneSurrogateIsStoredAsAReplacementCharacter() async throws {
        try await expectRepaired(Array(#""Zo\ud800e""#.utf8), storedAs: "Zo\u{FFFD}e")
    }

    @Test func aNumericIdpIDIsStoredAsItsText() async throws {
        let scene = try await Scene.start()
        scene.harness.simulator.overrideUserListing(scene.victim.id, .raw(scene.record(["idp_id": Array("12345".utf8)])))
        _ = try await scene.sync()
        #expect(try await scene.harness.account(scene.victim.id)?.decode(String?.self, "idp_id") == "12345")
        #expect(try await scene.lastRun().quarantined == 0)
        await scene.harness.stop()
    }
}
