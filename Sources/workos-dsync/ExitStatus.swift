import ArgumentParser

/// The documented exit codes of every command (also in `--help` and the README).
enum ExitStatus: Int32 {
    /// Success; with `--detailed-exitcode`, also "nothing to change".
    case success = 0
    /// An unexpected error, e.g. the database is unreachable.
    case error = 1
    /// `plan --detailed-exitcode`: changes are pending.
    case changesPending = 2
    /// Disables were held by the mass-disable guard; they wait for `approve`
    /// (`status`: a held plan waits).
    case held = 3
    /// A directory's listing could not be fetched completely; nothing was applied to it
    /// (`status`: a directory's last complete listing is older than `http.max_listing_age`, or missing).
    case fetchFailed = 4
    /// `approve` refused: no held plan, or it no longer matches the listing;
    /// or an admin command (`conflicts resolve`, `roles`, `hold`) refused: nothing changed.
    case approvalRefused = 5
    /// A setting is wrong or missing; the message names it.
    case configuration = 6

    var exitCode: ExitCode { ExitCode(rawValue) }

    static let helpText = """
        Exit codes: 0 success (plan --detailed-exitcode: no changes), 1 error (e.g. database unreachable; \
        check: a check failed), 2 changes pending (plan --detailed-exitcode), 3 disables held by the guard \
        (status: a held plan waits), 4 a directory's listing failed, nothing applied to it (status: a listing \
        is stale), 5 approval refused (stale or no held plan) or an admin command refused (nothing changed), 6 configuration error.
        """
}
