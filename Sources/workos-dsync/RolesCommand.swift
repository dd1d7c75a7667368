import ArgumentParser
import Foundation
import Store

/// `workos-dsync roles list|add|remove`: the admin-maintained `role_mappings`.
struct RolesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roles",
        abstract: "List, add or remove role mappings ((organization or directory, group idp_id or name) → role).",
        discussion: """
            Each change writes a role_mapping.added or role_mapping.removed event; the persons whose roles change get \
            user.roles_changed on their directory's next run. Writing role_mappings needs workos_dsync_admin (or the \
            owner), not the daemon's role: name that connection with --database-url-env NAME.
            """,
        subcommands: [List.self, Add.self, Remove.self])

    /// `roles list [--format table|json]`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the role mappings.", discussion: ExitStatus.helpText)

        @OptionGroup var options: ConfigOptions
        @Option(help: "table (default) or json.")
        var format: OutputFormat = .table
        @OptionGroup var owner: OwnerConnectionOptions

        func run() async throws {
            let session = try await AdminSession.open(options, owner: owner, label: "workos-dsync.roles")
            let mappings = try await session.run("roles list") { try await $0.roleMappings() }
            switch format {
            case .json: try OutputFormat.printJSON(mappings)
            case .table:
                for mapping in mappings { print(RoleText.line(mapping)) }
                print("\(mappings.count) role mapping\(mappings.count == 1 ? "" : "s").")
            }
        }
    }

    /// `roles add (--organization ID | --directory ID) (--group-idp-id X | --group-name X) --role ROLE`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a role mapping.", discussion: ExitStatus.helpText)

        @OptionGroup var options: ConfigOptions
        @Option(help: "The mapping applies to every directory of this organization.")
        var organization: String?
        @Option(help: "The mapping applies to this directory only.")
        var directory: String?
        @Option(help: "Match the group by its idp_id.")
        var groupIdpId: String?
        @Option(help: "Match the group by its name.")
        var groupName: String?
        @Option(help: "The role members of the group get.")
        var role: String
        @OptionGroup var owner: OwnerConnectionOptions

        func validate() throws {
            guard (organization != nil) != (directory != nil) else { throw ValidationError("give exactly one of --organization and --directory.") }
            guard (groupIdpId != nil) != (groupName != nil) else { throw ValidationError("give exactly one of --group-idp-id and --group-name.") }
            guard !role.isEmpty else { throw ValidationError("--role must not be empty.") }
        }

        func run() async throws {
            let key = RoleMappingKey(
                organizationID: organization, directoryID: directory, groupIdpID: groupIdpId, groupName: groupName, role: role)
            let session = try await AdminSession.open(options, owner: owner, label: "workos-dsync.roles")
            let mapping = try await session.run("roles add") { try await $0.addRoleMapping(key, by: AdminSession.actor) }
            print("added \(RoleText.line(mapping))")
        }
    }

    /// `roles remove ID`.
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a role mapping by id.", discussion: ExitStatus.helpText)

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The mapping's id (see `roles list`).")
        var id: Int64
        @OptionGroup var owner: OwnerConnectionOptions

        func run() async throws {
            let session = try await AdminSession.open(options, owner: owner, label: "workos-dsync.roles")
            let mapping = try await session.run("roles remove") { try await $0.removeRoleMapping(id: id, by: AdminSession.actor) }
            print("removed \(RoleText.line(mapping))")
        }
    }
}

/// A role mapping in words: "12: directory directory_01 group name Engineering → editor".
enum RoleText {
    static func line(_ mapping: RoleMapping) -> String {
        let scope = mapping.directoryID.map { "directory \($0)" } ?? "organization \(mapping.organizationID ?? "?")"
        let group = mapping.groupIdpID.map { "group idp_id \($0)" } ?? "group name \(mapping.groupName ?? "?")"
        return "\(mapping.id): \(scope) \(group) → \(mapping.role)"
    }
}
