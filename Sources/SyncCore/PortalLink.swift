public import Foundation
public import Logging
public import WorkOS

/// `workos-dsync portal-link`: a one-time WorkOS Admin Portal link with which a
/// customer's IT admin sets up Directory Sync (SCIM provisioning) for their organization.
public enum PortalLink {
    /// The Admin Portal intent for Directory Sync.
    public static let intent = "dsync"

    /// Asks WorkOS (`POST /portal/generate_link`, intent `dsync`) for a link for `organizationID`.
    /// Throws a `SettingsError` when the API key is missing, a `WorkOSError` when WorkOS refuses.
    public static func generate(
        organizationID: String, settings: Settings, logger: Logger,
        tuneClient: (inout WorkOSClient.Configuration) -> Void = { _ in }
    ) async throws -> URL {
        let client = try Runtime.makeClient(settings: settings, logger: logger, tune: tuneClient)
        return try await client.generatePortalLink(organizationID: organizationID, intent: intent)
    }
}
