import Daemon
import Foundation
import Logging
import SyncCore
import Testing
import WorkOS
import WorkOSSimulator

/// `portal-link` against the simulator's `POST /portal/generate_link`.
@Suite struct PortalLinkTests {
    func settings(for simulator: WorkOSSimulator) throws -> Settings {
        var settings = Settings()
        settings.apiKey = Secret(simulator.apiKey)
        settings.baseURL = try #require(simulator.baseURL).absoluteString
        return settings
    }

    @Test func printsADirectorySyncLinkForAKnownOrganization() async throws {
        let simulator = WorkOSSimulator(SimulatorConfiguration(directories: 1, usersPerDirectory: 1, rateLimit: nil))
        try simulator.start()
        defer { simulator.stop() }
        let organization = try #require(simulator.directories().first?.organizationID)
        let link = try await PortalLink.generate(
            organizationID: organization, settings: try settings(for: simulator), logger: Logger(label: "test"))
        #expect(link.scheme == "https")
        let query = URLComponents(url: link, resolvingAgainstBaseURL: false)?.queryItems ?? []
        #expect(query.contains(URLQueryItem(name: "intent", value: "dsync")))
        #expect(query.contains { $0.name == "secret" && !($0.value ?? "").isEmpty })
        #expect(simulator.statistics.totalRequests >= 1)
    }

    @Test func anUnknownOrganizationOrAMissingKeyIsAnError() async throws {
        let simulator = WorkOSSimulator(SimulatorConfiguration(directories: 1, usersPerDirectory: 1, rateLimit: nil))
        try simulator.start()
        defer { simulator.stop() }
        await #expect(throws: WorkOSError.self) {
            try await PortalLink.generate(
                organizationID: "org_does_not_exist", settings: try settings(for: simulator), logger: Logger(label: "test"),
                tuneClient: { $0.retry = RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(1), maxDelay: .milliseconds(1)) })
        }
        var keyless = try settings(for: simulator)
        keyless.apiKey = nil
        await #expect(throws: SettingsError.self) {
            try await PortalLink.generate(organizationID: "org_x", settings: keyless, logger: Logger(label: "test"))
        }
    }
}
