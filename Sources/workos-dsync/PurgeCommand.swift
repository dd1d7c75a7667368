import ArgumentParser
import Daemon
import Foundation
import Store
import SyncCore

/// `workos-dsync purge --older-than DAYS [--dry-run]`: anonymises long-disabled persons.
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Anonymise the personal data of persons whose accounts were all disabled more than DAYS ago.",
        discussion: """
            Nulls emails, names, usernames, job titles and custom attributes of those persons and their accounts, \
            their email history, and the personal fields of their events (keys kept); sets users.anonymized_at and \
            writes one user.anonymized event per person. Rows, ids, statuses and timestamps stay. One transaction. \
            Refuses (exit 6) a DAYS shorter than purge.cooling_off (default 30 days). Never touches an active person, \
            nor a person under legal hold (`workos-dsync hold`). Accounts never linked to a person (an open link \
            conflict) disabled longer ago are scrubbed too and their conflict closed. Then deletes sync_runs older \
            than retention.sync_runs (default 90d) and, only if set, events older than retention.events. \
            Rewriting events needs the schema owner: put its connection string in an environment variable and \
            name it with --database-url-env NAME. \
            \(ExitStatus.helpText)
            """)

    @OptionGroup var options: ConfigOptions
    @Option(name: .customLong("older-than"), help: "Only persons disabled more than this many days ago (at least purge.cooling_off).")
    var olderThan: Int
    @Flag(help: "Print who would be anonymised; change nothing.")
    var dryRun = false
    @Option(help: "Only persons (and never-linked accounts) with an account in this directory; skips retention.")
    var directory: String?
    @OptionGroup var owner: OwnerConnectionOptions

    func validate() throws {
        guard (1...36_500).contains(olderThan) else {
            throw ValidationError("--older-than must be a whole number of days from 1 to 36500.")
        }
    }

    func run() async throws {
        let session = try await AdminSession.open(options, owner: owner, label: "workos-dsync.purge")
        let settings = session.settings
        let (result, retention): (PurgeResult, RetentionResult)
        do {
            result = try await session.store.purge(
                olderThan: .seconds(Int64(olderThan) * 86_400), coolingOff: settings.purgeCoolingOff, dryRun: dryRun,
                directoryID: directory)
            // Retention is global: not with --directory.
            retention = directory != nil ? RetentionResult() : try await session.store.applyRetention(
                syncRuns: settings.syncRunsRetention, events: settings.eventTableRetention, dryRun: dryRun)
        } catch let refused as PurgeRefused {
            await session.connection.close()
            printError(refused.description)
            throw ExitStatus.configuration.exitCode
        } catch let error as PostgresError where error.sqlState == "42501" {
            await session.connection.close()
            printError(
                "purge refused by PostgreSQL, nothing changed: \(error.message). Anonymising event payloads needs the "
                    + "schema owner: run purge with --database-url-env naming a variable that holds the owner's connection "
                    + "(as for migrate).")
            throw ExitStatus.error.exitCode
        } catch {
            await session.connection.close()
            printError("purge failed, nothing changed: \(error)")
            throw ExitStatus.error.exitCode
        }
        await session.connection.close()
        for line in PurgeText.lines(result, olderThanDays: olderThan) { print(line) }
        if retention.syncRunsDeleted > 0 || retention.eventsDeleted > 0 {
            print("\(dryRun ? "Would delete" : "Deleted") \(retention.syncRunsDeleted) sync_runs rows older than retention.sync_runs"
                + (settings.eventTableRetention == nil ? "" : " and \(retention.eventsDeleted) events rows older than retention.events")
                + ".")
        }
    }
}

/// The purge's report in words; a dry run says "would".
enum PurgeText {
    static func lines(_ result: PurgeResult, olderThanDays days: Int) -> [String] {
        let verb = result.dryRun ? "would anonymise" : "anonymised"
        var lines = result.persons.map { person in
            let since = ISO8601DateFormatter().string(from: person.disabledAt)
            // After the purge the email is gone: it is not printed either (the output may land in a journal).
            let email = result.dryRun ? "\(person.email ?? "no email"), " : ""
            return "\(verb) person \(person.personID.uuidString.lowercased()) (\(email)"
                + "\(person.accounts) account\(person.accounts == 1 ? "" : "s"), disabled since \(since))"
        }
        if result.legalHolds > 0 {
            lines.append("kept \(result.legalHolds) person\(result.legalHolds == 1 ? "" : "s") under legal hold")
        }
        if result.unlinkedAccounts > 0 {
            lines.append("\(verb) \(result.unlinkedAccounts) never-linked account\(result.unlinkedAccounts == 1 ? "" : "s")")
        }
        if result.persons.isEmpty {
            lines.append("Nobody to anonymise: no person has had every account disabled for more than \(days) days.")
        } else {
            lines.append(
                "\(result.dryRun ? "Would anonymise" : "Anonymised") \(result.persons.count) person\(result.persons.count == 1 ? "" : "s"): "
                    + "\(result.accountsScrubbed) accounts, \(result.emailHistoryScrubbed) email history rows, "
                    + "\(result.eventsScrubbed) event payloads, \(result.anonymizedEvents) user.anonymized events"
                    + (result.dryRun ? " (dry run: nothing changed)." : "."))
        }
        return lines
    }
}
