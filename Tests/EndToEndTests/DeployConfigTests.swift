import Daemon
import Foundation
import SyncCore
import Testing
import WorkOS

/// `deploy/config.example.yaml` loads with `Settings.load` and names every
/// setting the parser knows.
@Suite struct DeployConfigTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let examplePath = root.appendingPathComponent("deploy/config.example.yaml").path

    @Test func theExampleLoadsWithTheDocumentedDefaults() throws {
        let settings = try Settings.load(path: Self.examplePath, environment: [:])
        let defaults = Settings()
        #expect(settings.baseURL == defaults.baseURL)
        #expect(settings.interval == defaults.interval)
        #expect(settings.concurrency == defaults.concurrency)
        #expect(settings.safety == defaults.safety)
        #expect(settings.listen == defaults.listen)
        #expect(settings.maxListingAge == defaults.maxListingAge)
        #expect(settings.maxUsersInMemory == defaults.maxUsersInMemory)
        #expect(settings.claimTTL == defaults.claimTTL)
        #expect(settings.purgeCoolingOff == defaults.purgeCoolingOff)
        #expect(settings.connectTimeout == defaults.connectTimeout)
        #expect(settings.requestTimeout == defaults.requestTimeout)
        #expect(settings.directoryUsersPerSecond == defaults.directoryUsersPerSecond)
        #expect(settings.requestsPerSecond == defaults.requestsPerSecond)
        #expect(settings.logFormat == defaults.logFormat)
        #expect(settings.logLevel == defaults.logLevel)
        #expect(settings.directories.isEmpty)
        #expect(settings.databaseURL == "host=/run/postgresql dbname=app user=workos_dsync")
    }

    @Test func theCommentedOptionalSettingsLoadWhenUncommented() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wds-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("key").path
        try "sk_test_from_file\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        var text = try String(contentsOfFile: Self.examplePath, encoding: .utf8)
        text = text.replacingOccurrences(of: "# api_key_file: /etc/workos-dsync/workos-api-key", with: "api_key_file: \(keyFile)")
        text = text.replacingOccurrences(of: "# ca_file:", with: "ca_file:")
        text = text.replacingOccurrences(of: "# revoke_sessions_sql:", with: "revoke_sessions_sql:")
        let path = directory.appendingPathComponent("config.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let settings = try Settings.load(path: path, environment: [:])
        #expect(try settings.requireAPIKey() == Secret("sk_test_from_file"))
        #expect(settings.caFile == "/etc/ssl/certs/corporate-proxy-ca.pem")
        #expect(settings.revokeSessionsSQL == "DELETE FROM public.sessions WHERE user_id = ANY($1)")
    }

    /// The keys `Settings.set` knows: its `case "…"` lines.
    static func parserKeys() throws -> [String] {
        let parser = try String(
            contentsOf: Self.root.appendingPathComponent("Sources/SyncCore/Settings.swift"), encoding: .utf8)
        return parser.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("case \""), let end = trimmed.dropFirst(6).firstIndex(of: "\"") else { return nil }
            return String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 6)..<end])
        }
    }

    @Test func checkPrintsEverySettingOfTheParser() throws {
        let printed = Set(Settings().redactedLines.compactMap { $0.split(separator: ":").first.map(String.init) })
        for key in try Self.parserKeys() {
            let shown = key == "workos.api_key_file" ? "workos.api_key" : key
            #expect(printed.contains(shown), "\(key) is missing from Settings.redactedLines (workos-dsync check)")
        }
    }

    @Test func everySettingOfTheParserIsDocumented() throws {
        let example = try String(contentsOfFile: Self.examplePath, encoding: .utf8)
        let keys = try Self.parserKeys()
        #expect(keys.count >= 21)
        for key in keys {
            let leaf = key.split(separator: ".").last.map(String.init) ?? key
            let section = key.contains(".") ? String(key.split(separator: ".")[0]) + ":" : nil
            #expect(example.contains("\(leaf):"), "\(key) is not in deploy/config.example.yaml")
            if let section { #expect(example.contains("\n\(section)\n"), "section of \(key)") }
        }
    }
}
