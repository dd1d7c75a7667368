public import Foundation
import Logging
import Store
public import SyncCore

/// The `/readyz` verdict: the database answers `SELECT 1` and no directory
/// in scope has a last complete listing older than `http.max_listing_age`
/// (a directory never listed completely counts from the daemon's start).
public final class Readiness: Sendable {
    /// Ready, or not with a short reason.
    public enum Verdict: Sendable, Hashable {
        case ready
        case notReady(String)
    }

    private let store: SyncStore
    private let settings: SettingsBox
    private let startedAt: Date

    init(store: SyncStore, settings: SettingsBox, startedAt: Date) {
        self.store = store
        self.settings = settings
        self.startedAt = startedAt
    }

    /// Checks now, on the health connection (its own session, so a long apply never delays it).
    public func check(now: Date = Date()) async -> Verdict {
        let current = settings.current
        let freshness: [ListingFreshness]
        do {
            _ = try await store.connection.query("SELECT 1 AS one")
            freshness = try await store.listingFreshness()
        } catch {
            return .notReady("database unreachable")
        }
        let maximum = current.maxListingAge.seconds
        var stale: [String] = []
        for directory in freshness where current.directories.isEmpty || current.directories.contains(directory.directoryID) {
            let age = now.timeIntervalSince(directory.lastCompleteSyncAt ?? startedAt)
            if age > maximum { stale.append(directory.directoryID) }
        }
        guard stale.isEmpty else {
            let names = stale.prefix(5).joined(separator: ", ") + (stale.count > 5 ? ", …" : "")
            return .notReady("last complete listing older than \(DurationText.format(current.maxListingAge)): \(names)")
        }
        return .ready
    }
}
