import ArgumentParser
import WorkOS

/// The `workos-dsync` command: Directory Sync from WorkOS into PostgreSQL, without webhooks.
@main
struct WorkOSDsync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workos-dsync",
        abstract: "Keeps PostgreSQL in step with WorkOS Directory Sync (SCIM provisioning and deprovisioning), without webhooks.",
        discussion: ExitStatus.helpText,
        version: BuildInfo.description,
        subcommands: [
            CheckCommand.self, MigrateCommand.self, SyncCommand.self, PlanCommand.self, ApproveCommand.self, StatusCommand.self,
            RunCommand.self, SimulateCommand.self, PurgeCommand.self, PortalLinkCommand.self, DemoCommand.self,
            ConflictsCommand.self, RolesCommand.self, HoldCommand.self, UnholdCommand.self,
        ]
    )
}
