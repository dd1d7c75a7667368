import CBuildInfo

/// What this binary is: the release version (the one place it is written) and the git commit it
/// was built from. `--version` prints ``description``; `/metrics` shows
/// `workos_dsync_build_info{version,commit} 1`; `User-Agent` carries the version.
public enum BuildInfo {
    /// The release version.
    public static let version = "0.3.0"
    /// The short git commit, from `WORKOS_DSYNC_COMMIT` at build time (see Package.swift), or `unknown`.
    public static let commit = String(cString: workos_dsync_build_commit())
    /// `0.3.0 (commit 1a2b3c4)`.
    public static var description: String { "\(version) (commit \(commit))" }
}
