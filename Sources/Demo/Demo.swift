import Foundation
public import Logging
import PostgresTestSupport
import Reconciler
import Store
import SyncCore
import Synchronization
import WorkOS
import WorkOSModel
import WorkOSSimulator

/// `workos-dsync demo`: a one-command tour of a directory user's whole life,
/// told in plain words for an IT admin, on a throwaway PostgreSQL and the
/// bundled WorkOS simulator (both on loopback, both removed at the end).
///
/// Each step changes the simulated directory the way an identity provider
/// would, runs one sync cycle (the same `SyncEngine` the daemon uses), and
/// prints what the database now says: status, `can_sign_in`, roles and the
/// events written. Returns the closing counts so tests can check them.
public enum Demo {
    /// What the tour runs on.
    public struct Configuration: Sendable {
        /// Users in the one simulated directory, the two named characters included. Default 40.
        public var users = 40
        /// Groups in the directory. Default 4.
        public var groups = 4
        /// Seed of the simulator's generated data. Default 42.
        public var seed: UInt64 = 42
        /// Accounts deleted at once to trip the guard: this many, or more when
        /// the guard's threshold for the directory's size needs more. Default 8.
        public var massDrop = 8
        /// The guard's `min_users` for the tour (small, so a small directory can trip it). Default 5.
        public var guardMinUsers = 5
        /// An existing, empty database to use instead of starting a throwaway server. Default nil.
        public var databaseURL: String?

        public init() {}
    }

    /// The closing counts of the tour.
    public struct Summary: Sendable, Hashable {
        public var accounts = 0
        public var activeAccounts = 0
        public var disabledAccounts = 0
        public var persons = 0
        public var activePersons = 0
        public var disabledPersons = 0
        public var syncRuns = 0
        public var heldPlansApplied = 0
        public var emailChanges = 0
        public var events = 0
        /// Events written, by type.
        public var eventsByType: [String: Int] = [:]
    }

    /// A step that did not go as the tour expects (the demo exits 1).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Stops whatever a running tour started (the simulator, the throwaway
    /// server and its files). For a signal handler: Ctrl-C must not leave a
    /// PostgreSQL behind. Safe to call at any time, more than once.
    /// Blocks (up to a minute) while a server is still starting, so that it
    /// is stopped too: call it from a signal handler's queue, not from a task.
    public static func cleanUpNow() {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, cleanups.withLock({ $0.values.contains { $0.starting } }) {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let pending = cleanups.withLock { runs in
            defer { runs.removeAll() }
            return runs
        }
        for run in pending.values { for cleanup in run.actions.reversed() { cleanup() } }
    }

    /// What each running tour must stop, by run; `starting` while its server starts.
    private static let cleanups = Mutex<[UUID: (starting: Bool, actions: [@Sendable () -> Void])]>([:])

    private static func register(_ run: UUID, starting: Bool = false, _ cleanup: (@Sendable () -> Void)? = nil) {
        cleanups.withLock { runs in
            var entry = runs[run] ?? (starting: false, actions: [])
            entry.starting = starting
            if let cleanup { entry.actions.append(cleanup) }
            runs[run] = entry
        }
    }

    private static func cleanUp(_ run: UUID) {
        let actions = cleanups.withLock { $0.removeValue(forKey: run) }?.actions ?? []
        for cleanup in actions.reversed() { cleanup() }
    }

    /// Runs the tour, writing each line to `output`. Stops the simulator and
    /// the throwaway server and removes its directory, on success and on error.
    public static func run(
        _ configuration: Configuration = Configuration(), logger: Logger, output: @escaping @Sendable (String) -> Void
    ) async throws -> Summary {
        output("workos-dsync demo: a directory user's life, from first sync to rehire.")
        output("Setting up: a throwaway PostgreSQL and a simulated WorkOS directory, both on this machine only.")
        let runID = UUID()
        var postgres: ThrowawayPostgres?
        let databaseURL: String
        if let given = configuration.databaseURL {
            databaseURL = given
        } else {
            register(runID, starting: true)
            let server: ThrowawayPostgres
            do {
                server = try await ThrowawayPostgres.start(logger: logger)
            } catch {
                cleanUp(runID)
                throw error
            }
            postgres = server
            register(runID) { server.stop() }
            do {
                databaseURL = try await server.createDatabase("workos_dsync_demo", logger: logger)
            } catch {
                cleanUp(runID)
                throw error
            }
        }
        let simulator = WorkOSSimulator(SimulatorConfiguration(
            seed: configuration.seed, directories: 1, usersPerDirectory: max(0, configuration.users - 2),
            groupsPerDirectory: max(1, configuration.groups), deactivation: .delete, rateLimit: nil))
        register(runID) { simulator.stop() }
        defer { cleanUp(runID) }
        let admin = try await PostgresConnection.connect(databaseURL, logger: logger)
        do {
            _ = try await Migrator.apply(on: admin, logger: logger)
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        let baseURL = try simulator.start()
        var settings = Settings()
        settings.apiKey = Secret(simulator.apiKey)
        settings.baseURL = baseURL.absoluteString
        settings.databaseURL = databaseURL
        settings.safety = SafetyPolicy(minUsers: configuration.guardMinUsers, fraction: 0.10)
        let runtime = try await Runtime.connect(settings: settings, logger: logger) { client in
            // The simulator runs without WorkOS's rate limits.
            client.directoryUsersPerSecond = 10_000
            client.requestsPerSecond = 10_000
            client.retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(100))
        }
        let tour = Tour(simulator: simulator, runtime: runtime, configuration: configuration, output: output)
        do {
            let summary = try await tour.run(postgresDirectory: postgres?.directory)
            await runtime.close()
            output("")
            output("Cleaning up: stopped the simulator and the throwaway PostgreSQL, removed its files. Done.")
            return summary
        } catch {
            await runtime.close()
            output("")
            output("The demo stopped: \(error). Cleaning up.")
            throw error
        }
    }
}

/// The steps of the tour, against one runtime and one simulator.
private struct Tour {
    let simulator: WorkOSSimulator
    let runtime: Runtime
    let configuration: Demo.Configuration
    let output: @Sendable (String) -> Void

    var directoryID: String { simulator.directoryIDs[0] }
    var connection: PostgresConnection { runtime.store.connection }

    func say(_ line: String = "") { output(line) }

    func step(_ number: Int, _ title: String, _ story: String) {
        say()
        say("\(number). \(title)")
        say(String(repeating: "-", count: title.count + 3))
        say(story)
    }

    func run(postgresDirectory: String?) async throws -> Demo.Summary {
        guard let directory = simulator.directories().first else { throw Demo.Failure(description: "the simulator has no directory") }
        let domain = directory.domain
        let ada = simulator.createUser(
            in: directoryID, email: "ada.lovelace@\(domain)", firstName: "Ada", lastName: "Lovelace")
        let grace = simulator.createUser(
            in: directoryID, email: "grace.hopper@\(domain)", firstName: "Grace", lastName: "Hopper")
        let appAdmins = simulator.createGroup(in: directoryID, name: "App Admins")
        guard let adaIdp = simulator.user(ada)?.idpID, let graceIdp = simulator.user(grace)?.idpID else {
            throw Demo.Failure(description: "the simulator did not create the demo's users")
        }
        say("  PostgreSQL: \(postgresDirectory.map { "throwaway server in \(($0 as NSString).standardizingPath)" } ?? "the given database"), schema workos_dsync migrated")
        say("  WorkOS (simulated): \(simulator.baseURL?.absoluteString ?? "?"), directory \(directoryID)")
        say("    \"\(directory.name)\", organization \(directory.organizationID), \(configuration.users) users, \(configuration.groups + 1) groups")
        say("  Mass-disable guard for this tour: more than max(\(configuration.guardMinUsers), 10 % of active accounts) disables in one run are held.")
        say("  We follow Ada Lovelace and Grace Hopper; everyone else is background.")

        // 1. First sync.
        step(1, "First sync", "workos-dsync pages through the directory's users and groups and creates an account for each.")
        var report = try await sync(expect: .applied)
        try await showEvents(report)
        try await showPerson(adaIdp)

        // 2. Profile change.
        step(2, "A profile change", "In the identity provider, Ada gets a new job title. The next cycle updates her account.")
        simulator.updateUser(ada, jobTitle: "Chief Analytical Engineer")
        report = try await sync(expect: .applied)
        try await showEvents(report)
        try await showPerson(adaIdp)

        // 3. Email change.
        step(3, "An email change", "Ada's email changes. Her account keeps its id; the old address is kept in email_history.")
        simulator.changeEmail(ada, to: "ada.king@\(domain)")
        report = try await sync(expect: .applied)
        try await showEvents(report)
        for row in try await connection.query("""
            SELECT h.old_email, h.new_email FROM workos_dsync.email_history h
            JOIN workos_dsync.directory_users d ON d.id = h.directory_user_id
            WHERE d.directory_id = \(directoryID) AND d.idp_id = \(adaIdp) ORDER BY h.id
            """)
        {
            say("  email_history: \(try row.decode(String?.self, "old_email") ?? "none") → \(try row.decode(String?.self, "new_email") ?? "none")")
        }
        try await showPerson(adaIdp)

        // 4. Role grant through a group.
        guard let admins = simulator.group(appAdmins) else { throw Demo.Failure(description: "no group to map") }
        step(4, "A role through a group",
             "Your app maps the directory group \"\(admins.name)\" to its role \"admin\" (one row in role_mappings),\n"
                + "and the IT admin adds Ada to that group in the identity provider.")
        try await connection.execute("""
            INSERT INTO workos_dsync.role_mappings (directory_id, group_idp_id, role)
            VALUES (\(directoryID), \(admins.idpID), 'admin') ON CONFLICT DO NOTHING
            """)
        say("  role_mappings: (directory \(directoryID), group \"\(admins.name)\") → admin")
        simulator.addMembership(user: ada, group: admins.id)
        report = try await sync(expect: .applied)
        try await showEvents(report, onlyIdp: adaIdp)
        try await showPerson(adaIdp)

        // 5. Deactivation, state kept.
        step(5, "Deprovisioning: a deactivation",
             "This directory is switched to keep leavers listed with state \"inactive\" (some identity providers do).\n"
                + "Ada leaves the company. Within one cycle her account is disabled, her sessions revoked, her roles gone.")
        simulator.setDeactivation(.keepInactive)
        simulator.deactivateUser(ada)
        report = try await sync(expect: .applied)
        try await showEvents(report)
        try await showPerson(adaIdp)

        // 6. Deletion.
        step(6, "Deprovisioning: a deletion",
             "Back to WorkOS's default since 2023: leavers are deleted and simply vanish from the listing.\n"
                + "Grace is removed from the directory. Missing from a complete listing means disabled (never deleted here).")
        simulator.setDeactivation(.delete)
        simulator.deactivateUser(grace)
        report = try await sync(expect: .applied)
        try await showEvents(report)
        try await showPerson(graceIdp)

        // 7. Mass drop, held, approved.
        let bystanders = simulator.users(in: directoryID).filter { $0.id != ada && $0.id != grace && $0.state == "active" }
        let active = try await connection.query("""
            SELECT count(*) FROM workos_dsync.directory_users WHERE directory_id = \(directoryID) AND status = 'active'
            """)[0].decode(Int.self, "count")
        let threshold = runtime.settings.safety.threshold(activeAccounts: active)
        let dropped = Array(bystanders.prefix(max(configuration.massDrop, threshold + 3)))
        step(7, "A mass drop trips the guard",
             "Someone narrows the SCIM provisioning scope by mistake: \(dropped.count) people vanish at once.\n"
                + "That is more than the guard allows in one run, so nobody is disabled; the set waits as a held plan.")
        for user in dropped { simulator.deleteUser(user.id) }
        report = try await sync(expect: .held)
        guard let heldID = report.heldPlanID else { throw Demo.Failure(description: "the guard did not hold the mass drop") }
        if case .hold(let reason) = report.verdict { say("  guard: \(reason)") }
        let stillActive = try await connection.query("""
            SELECT count(*) FROM workos_dsync.directory_users
            WHERE directory_id = \(directoryID) AND workos_id = ANY(\(dropped.map(\.id))::text[]) AND status = 'active'
            """)[0].decode(Int.self, "count")
        say("  held plan \(heldID): \(dropped.count) accounts; still active while it waits: \(stillActive) of \(dropped.count)")
        let names = dropped.prefix(3).map { $0.email ?? $0.id }.joined(separator: ", ")
        say("  waiting for a decision: \(names)\(dropped.count > 3 ? " and \(dropped.count - 3) more" : "")")
        say("  (the daemon's /metrics shows workos_dsync_held_plans > 0; `workos-dsync status` lists the plan)")
        if let first = dropped.first { try await showPerson(first.idpID) }
        say()
        say("  The admin checks the list and decides the drop is real: `workos-dsync approve --directory \(directoryID) --plan \(heldID)`.")
        say("  Approval takes a fresh complete listing and applies exactly the held set, only if it still matches.")
        let approved = try await runtime.engine.reconcileAll(only: directoryID, mode: .approve(heldPlanID: heldID, approver: "demo-admin"))
        guard let approval = approved.first, approval.outcome == .applied else {
            throw Demo.Failure(description: "the approval was not applied: \(approved.first?.detail ?? "no report")")
        }
        say("  run \(approval.runID.map(String.init) ?? "?"): \(approval.outcome.rawValue) (\(approval.summary?.line ?? ""))")
        let decided = try await connection.query("""
            SELECT status, decided_by FROM workos_dsync.held_plans WHERE id = \(heldID)
            """)[0]
        say("  held plan \(heldID) is now \(try decided.decode(String.self, "status")), decided by \(try decided.decode(String?.self, "decided_by") ?? "?")")
        try await showEvents(approval)
        if let first = dropped.first { try await showPerson(first.idpID) }

        // 8. Rehire under a new WorkOS id.
        step(8, "A rehire",
             "Grace comes back. WorkOS gives her a NEW directory user id, with the same idp_id from the identity provider.\n"
                + "workos-dsync recognises her: the same account and person are reactivated, no duplicate is created.")
        let before = try await connection.query("""
            SELECT id, workos_id FROM workos_dsync.directory_users WHERE directory_id = \(directoryID) AND idp_id = \(graceIdp)
            """)[0]
        let rehired = simulator.rehireUser(idpID: graceIdp, in: directoryID)
        say("  WorkOS id: \(try before.decode(String.self, "workos_id")) → \(rehired)")
        report = try await sync(expect: .applied)
        try await showEvents(report)
        let accounts = try await connection.query("""
            SELECT count(*) AS count, min(id::text) AS id FROM workos_dsync.directory_users
            WHERE directory_id = \(directoryID) AND idp_id = \(graceIdp)
            """)[0]
        let sameAccount = try accounts.decode(String?.self, "id") == (try before.decode(UUID.self, "id")).uuidString.lowercased()
        say("  accounts with her idp_id: \(try accounts.decode(Int.self, "count")); same account row as before: \(sameAccount ? "yes" : "NO")")
        try await showPerson(graceIdp)

        let summary = try await summarize()
        say()
        say("Summary")
        say("-------")
        say("  accounts: \(summary.accounts) (\(summary.activeAccounts) active, \(summary.disabledAccounts) disabled, none deleted)")
        say("  persons: \(summary.persons) (\(summary.activePersons) active, \(summary.disabledPersons) disabled)")
        say("  sync runs: \(summary.syncRuns); held plans approved and applied: \(summary.heldPlansApplied); email changes kept: \(summary.emailChanges)")
        say("  events written: \(summary.events)")
        for (type, count) in summary.eventsByType.sorted(by: { $0.key < $1.key }) {
            say("    \(type): \(count)")
        }
        say()
        say("Your app reads the same tables: workos_dsync.can_sign_in(user_id, organization_id) for logins,")
        say("workos_dsync.effective_roles for roles, and workos_dsync.events (id > last seen) as the change feed.")
        return summary
    }

    /// One sync cycle; prints its outcome and checks it when `expect` is given.
    @discardableResult
    func sync(expect: RunOutcome?) async throws -> DirectoryReport {
        let reports = try await runtime.engine.reconcileAll(only: directoryID, mode: .apply)
        guard let report = reports.first else { throw Demo.Failure(description: "the sync reported no directory") }
        if let expect, report.outcome != expect {
            throw Demo.Failure(
                description: "expected the run to be \(expect.rawValue), it was \(report.outcome.rawValue): \(report.detail ?? "")")
        }
        guard expect != nil else { return report }
        var line = "  sync: run \(report.runID.map(String.init) ?? "?") \(report.outcome.rawValue)"
        if let summary = report.summary { line += " (\(summary.line))" }
        say(line)
        return report
    }

    /// The events a run wrote: each one when there are few, else counted by type.
    func showEvents(_ report: DirectoryReport, onlyIdp: String? = nil) async throws {
        guard let runID = report.runID else { return }
        let rows = try await connection.query("""
            SELECT e.type, e.reason, e.payload::text AS payload, d.email, d.idp_id
            FROM workos_dsync.events e LEFT JOIN workos_dsync.directory_users d ON d.id = e.directory_user_id
            WHERE e.run_id = \(runID) ORDER BY e.id
            """)
        guard !rows.isEmpty else {
            say("  events written: none")
            return
        }
        if rows.count > 8 {
            var counts: [String: Int] = [:]
            for row in rows { counts[try row.decode(String.self, "type"), default: 0] += 1 }
            say("  events written: " + counts.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", "))
            return
        }
        say("  events written:")
        for row in rows {
            let type = try row.decode(String.self, "type")
            let reason = try row.decode(String?.self, "reason").map { " (\($0))" } ?? ""
            let who = try row.decode(String?.self, "email").map { " \($0)" } ?? ""
            let detail = EventText.detail(type: type, payload: try row.decode(String.self, "payload"))
            say("    \(type)\(reason)\(who)\(detail.isEmpty ? "" : ": \(detail)")")
        }
    }

    /// What the database says about the account with this `idp_id`, and its person.
    func showPerson(_ idpID: String) async throws {
        let rows = try await connection.query("""
            SELECT d.workos_id, d.email, d.first_name, d.last_name, d.job_title, d.state, d.status, d.disabled_reason,
                   p.status AS person_status, p.sessions_revoked_at IS NOT NULL AS revoked,
                   workos_dsync.can_sign_in(p.id, d.organization_id) AS can_sign_in,
                   coalesce((SELECT string_agg(DISTINCT r.role, ', ' ORDER BY r.role) FROM workos_dsync.effective_roles r
                             WHERE r.user_id = p.id), '') AS roles
            FROM workos_dsync.directory_users d LEFT JOIN workos_dsync.users p ON p.id = d.user_id
            WHERE d.directory_id = \(directoryID) AND d.idp_id = \(idpID)
            """)
        guard let row = rows.first else {
            say("  database: no account for idp_id \(idpID)")
            return
        }
        let name = [try row.decode(String?.self, "first_name"), try row.decode(String?.self, "last_name")]
            .compactMap { $0 }.joined(separator: " ")
        let email = try row.decode(String?.self, "email") ?? "no email"
        let status = try row.decode(String.self, "status")
        let reason = try row.decode(String?.self, "disabled_reason").map { ", reason \($0)" } ?? ""
        let roles = try row.decode(String.self, "roles")
        say("  database now says about \(name.isEmpty ? idpID : name) <\(email)>:")
        let state = try row.decode(String.self, "state")
        let listed = try row.decode(String?.self, "disabled_reason") == "missing"
            ? "no longer listed by WorkOS (last state \(state))" : "WorkOS state \(state)"
        say("    account: \(status)\(reason); \(listed); job title \(try row.decode(String?.self, "job_title") ?? "none")")
        let personStatus = try row.decode(String?.self, "person_status") ?? "not linked"
        let revoked = try row.decode(Bool?.self, "revoked") == true
        say("    person: \(personStatus)" + (personStatus == "disabled" && revoked ? ", sessions revoked" : ""))
        say("    can_sign_in: \(try row.decode(Bool?.self, "can_sign_in") == true ? "yes" : "no");  roles: \(roles.isEmpty ? "none" : roles)")
    }

    /// Rows of a `workos_dsync` table with a `status` column: total, active, disabled.
    private func statusCounts(_ table: String) async throws -> (Int, Int, Int) {
        let row = try await connection.query("""
            SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active,
                   count(*) FILTER (WHERE status = 'disabled') AS disabled
            FROM \(identifier: "workos_dsync." + table)
            """)[0]
        return (try row.decode(Int.self, "total"), try row.decode(Int.self, "active"), try row.decode(Int.self, "disabled"))
    }

    func summarize() async throws -> Demo.Summary {
        var summary = Demo.Summary()
        (summary.accounts, summary.activeAccounts, summary.disabledAccounts) = try await statusCounts("directory_users")
        (summary.persons, summary.activePersons, summary.disabledPersons) = try await statusCounts("users")
        summary.syncRuns = try await connection.query("SELECT count(*) FROM workos_dsync.sync_runs")[0].decode(Int.self, "count")
        summary.heldPlansApplied = try await connection.query("""
            SELECT count(*) FROM workos_dsync.held_plans WHERE status = 'applied'
            """)[0].decode(Int.self, "count")
        summary.emailChanges = try await connection.query("SELECT count(*) FROM workos_dsync.email_history")[0].decode(Int.self, "count")
        for row in try await connection.query("SELECT type, count(*) FROM workos_dsync.events GROUP BY type") {
            summary.eventsByType[try row.decode(String.self, "type")] = try row.decode(Int.self, "count")
        }
        summary.events = summary.eventsByType.values.reduce(0, +)
        return summary
    }
}

/// One event's payload in a few words, for the tour.
private enum EventText {
    static func detail(type: String, payload text: String) -> String {
        guard let payload = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return "" }
        func value(_ any: Any?) -> String {
            switch any {
            case let string as String: string
            case let array as [Any]: array.isEmpty ? "none" : array.map { value($0) }.joined(separator: ", ")
            case is NSNull, nil: "none"
            default: "\(any!)"
            }
        }
        let person = payload["scope"] as? String == "person"
        let changed = payload["changed"] as? [String: Any] ?? [:]
        let changes = changed.keys.sorted().map { key -> String in
            guard let pair = changed[key] as? [Any], pair.count == 2, key != "custom_attributes" else { return key }
            return "\(key) \(value(pair[0])) → \(value(pair[1]))"
        }.joined(separator: "; ")
        switch type {
        case "user.created":
            let groups = payload["groups"] as? [Any] ?? []
            return "new account, \(value(payload["status"]))" + (groups.isEmpty ? "" : ", in \(groups.count) group(s)")
        case "user.updated", "user.reactivated":
            if person { return "the person is active again" }
            return changes.isEmpty ? (type == "user.updated" ? "group list changed" : "") : changes
        case "user.email_changed":
            return "\(value(payload["old_email"])) → \(value(payload["new_email"]))" + (changes.isEmpty ? "" : "; \(changes)")
        case "user.disabled":
            if person { return "the person (every account disabled), sessions revoked" }
            return "the account" + (changes.isEmpty ? "" : "; \(changes)")
        case "user.roles_changed":
            return "roles \(value(payload["before"])) → \(value(payload["after"]))"
        case "membership.added": return "added to group \(value(payload["group"]))"
        case "membership.removed": return "removed from group \(value(payload["group"]))"
        default:
            return text.count > 100 ? String(text.prefix(97)) + "..." : text
        }
    }
}
