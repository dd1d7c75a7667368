/// The outcome of one directory in one run: the `sync_runs.outcome` values.
public enum RunOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// Changes were written.
    case applied
    /// The listing matched the database: nothing written but the run record.
    case unchanged
    /// Creates and updates applied; disables held for approval.
    case held
    /// The listing (or the apply) failed: nothing applied.
    case failed
    /// The directory was not reconciled (unhealthy state, or another replica holds it).
    case skipped
}
