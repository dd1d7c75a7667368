import ArgumentParser
import Foundation
import Reconciler
import Store
import SyncCore

/// `workos-dsync conflicts list|resolve`: accounts that could not be linked
/// 1:1 to a person, and the admin's decision for each.
struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "List open link conflicts, or resolve one by linking its account to a person.",
        subcommands: [List.self, Resolve.self])

    /// `conflicts list [--directory ID] [--format table|json]`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List open link conflicts, oldest first.", discussion: ExitStatus.helpText)

        @OptionGroup var options: ConfigOptions
        @Option(help: "Only this directory id.")
        var directory: String?
        @Option(help: "table (default) or json.")
        var format: OutputFormat = .table
        @OptionGroup var owner: OwnerConnectionOptions

        func run() async throws {
            let session = try await AdminSession.open(options, owner: owner, label: "workos-dsync.conflicts")
            let conflicts = try await session.run("conflicts list") { try await $0.openConflicts(directoryID: directory) }
            switch format {
            case .json: try OutputFormat.printJSON(conflicts)
            case .table:
                for conflict in conflicts {
                    let candidates = conflict.candidates.map { $0.uuidString.lowercased() }.joined(separator: ", ")
                    print("account \(conflict.accountID.uuidString.lowercased()) (\(conflict.email ?? "no email"), "
                        + "\(conflict.workosID)) in \(conflict.directoryID): \(conflict.reason), since "
                        + "\(ISO8601DateFormatter().string(from: conflict.createdAt)); candidates: \(candidates.isEmpty ? "none" : candidates)")
                }
                print("\(conflicts.count) open link conflict\(conflicts.count == 1 ? "" : "s").")
            }
        }
    }

    /// `conflicts resolve ACCOUNT_ID --person PERSON_ID | --new-person`.
    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link a conflicting account to a person (or a new one), derive the person's status and roles, close the conflict.",
            discussion: """
                ACCOUNT_ID is the directory_users id (or the WorkOS user id) that `conflicts list` shows. Writes a \
                user.linked event (reason linked or new_person) and, as a run's apply does, user.reactivated, \
                user.disabled or user.roles_changed when the person's status or roles change. Refuses (exit 5, nothing \
                changed) a purged person, a person that already has an account in the directory, and a person with \
                active accounts in another organization unless --across-organizations is given (tenants stay apart). \
                Needs the daemon's role (workos_dsync_daemon) or the owner; --database-url-env NAME names another \
                connection. \(ExitStatus.helpText)
                """)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The account waiting in the conflict (directory_users.id or its WorkOS id).")
        var account: String
        @Option(help: "Link the account to this existing person (users.id).")
        var person: String?
        @Flag(help: "Make the account a new person from its email and names.")
        var newPerson = false
        @Flag(help: "Allow a person who has active accounts in another organization.")
        var acrossOrganizations = false
        @OptionGroup var owner: OwnerConnectionOptions

        func validate() throws {
            guard (person != nil) != newPerson else { throw ValidationError("give exactly one of --person PERSON_ID and --new-person.") }
            if let person, UUID(uuidString: person) == nil { throw ValidationError("--person must be a users.id (a uuid).") }
        }

        func run() async throws {
            let target: ConflictLink.Target = person.flatMap(UUID.init(uuidString:)).map { .existingPerson($0) } ?? .newPerson
            let session = try await AdminSession.open(options, owner: owner, label: "workos-dsync.conflicts")
            let revoke = session.settings.revokeSessionsSQL
            let resolved = try await session.run("conflicts resolve") {
                try await $0.resolveConflict(
                    account: account, target: target, resolvedBy: AdminSession.actor, acrossOrganizations: acrossOrganizations,
                    revokeSessionsSQL: revoke)
            }
            print("resolved link conflict \(resolved.conflictID): account \(resolved.accountID.uuidString.lowercased()) "
                + "linked to \(resolved.resolution == .newPerson ? "new " : "")person \(resolved.personID.uuidString.lowercased()) "
                + "(\(resolved.eventsWritten) events); can sign in to \(resolved.organizationID ?? "its organization"): "
                + "\(resolved.canSignIn ? "yes" : "no")")
        }
    }
}
