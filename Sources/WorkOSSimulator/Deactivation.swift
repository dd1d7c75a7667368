/// What WorkOS does with a user who leaves the directory.
public enum Deactivation: String, Sendable, Hashable, CaseIterable {
    /// The user is deleted (`dsync.user.deleted`) and vanishes from listings: WorkOS's default since 2023.
    case delete
    /// The user stays listed with `state: "inactive"` (`dsync.user.updated`).
    case keepInactive
}
