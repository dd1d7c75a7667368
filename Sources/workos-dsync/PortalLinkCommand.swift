import ArgumentParser
import Daemon
import Foundation
import SyncCore
import WorkOSModel

/// `workos-dsync portal-link --organization ID`: prints an Admin Portal link (intent `dsync`).
struct PortalLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal-link",
        abstract: "Print a one-time WorkOS Admin Portal link with which a customer's IT admin sets up Directory Sync.",
        discussion: "Send the link to the organization's IT admin; it expires after a few minutes (WorkOS's rule). "
            + ExitStatus.helpText)

    @OptionGroup var options: ConfigOptions
    @Option(help: "The WorkOS organization id (org_…).")
    var organization: String

    func validate() throws {
        guard !organization.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--organization must not be empty.")
        }
    }

    func run() async throws {
        let settings = try options.loadSettings()
        let logger = LogSetup.bootstrap(settings: settings, label: "workos-dsync.portal-link")
        do {
            let link = try await PortalLink.generate(organizationID: organization, settings: settings, logger: logger)
            print(link.absoluteString)
        } catch let error as SettingsError {
            printError(error.description)
            throw ExitStatus.configuration.exitCode
        } catch {
            printError("cannot generate an Admin Portal link for \(organization): \(error)")
            throw ExitStatus.error.exitCode
        }
    }
}
