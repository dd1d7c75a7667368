import ArgumentParser
import Foundation
import Store

/// `workos-dsync hold --person ID --reason TEXT`: a legal hold; `purge` never anonymises the person.
struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Put a person under legal hold: purge never anonymises them until `unhold`.",
        discussion: """
            Sets users.legal_hold_at and legal_hold_reason and writes a user.legal_hold_set event. Access is not \
            affected: a held person is still disabled and enabled by their directory. `status` lists holds. \
            \(ExitStatus.helpText)
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "The person (users.id).")
    var person: String
    @Option(help: "Why (a case or ticket reference); kept with the hold and in its event.")
    var reason: String
    @OptionGroup var owner: OwnerConnectionOptions

    func validate() throws {
        guard UUID(uuidString: person) != nil else { throw ValidationError("--person must be a users.id (a uuid).") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must not be empty.") }
    }

    func run() async throws {
        let id = UUID(uuidString: person)!
        let session = try await AdminSession.open(options, owner: owner, label: "workos-dsync.hold")
        let hold = try await session.run("hold") { try await $0.placeLegalHold(person: id, reason: reason, by: AdminSession.actor) }
        print("person \(hold.personID.uuidString.lowercased()) under legal hold since "
            + "\(ISO8601DateFormatter().string(from: hold.since)): \(hold.reason)")
    }
}

/// `workos-dsync unhold --person ID`: lifts a legal hold.
struct UnholdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unhold",
        abstract: "Lift a person's legal hold (writes user.legal_hold_released).",
        discussion: ExitStatus.helpText)

    @OptionGroup var options: ConfigOptions
    @Option(help: "The person (users.id).")
    var person: String
    @OptionGroup var owner: OwnerConnectionOptions

    func validate() throws {
        guard UUID(uuidString: person) != nil else { throw ValidationError("--person must be a users.id (a uuid).") }
    }

    func run() async throws {
        let id = UUID(uuidString: person)!
        let session = try await AdminSession.open(options, owner: owner, label: "workos-dsync.hold")
        try await session.run("unhold") { try await $0.releaseLegalHold(person: id, by: AdminSession.actor) }
        print("person \(id.uuidString.lowercased()) is no longer under legal hold")
    }
}
