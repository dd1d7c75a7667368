/// The mass-disable guard, and the index of every rule that can hold or skip
/// a run's disables.
///
/// Disables are held (creates and updates still apply) when they exceed
/// `max(minUsers, fraction × active accounts)`, when they exceed the absolute
/// cap `maxUsers`, or when a listing is empty while active accounts are stored.
/// While a mass set of `missing` disables is held, explicit deactivations
/// (`state` not active) within the threshold still apply (`sparesDeactivations`).
/// A directory that vanished from `GET /directories` is held under
/// `onDirectoryRemoved: .hold`, and under `.disable` still goes through the
/// threshold (a wrong API key makes every directory vanish at once).
///
/// Every rule that can hold or skip disables, in the order a run meets them,
/// with the file that enforces it:
/// 1. Directory state: a directory that is not `linked` is not listed at
///    all; the run is `skipped` and nobody is disabled
///    (`DirectoryState.isHealthy` in `Sources/WorkOSModel/DirectoryState.swift`,
///    checked by `SyncEngine.reconcile` in `Sources/SyncCore/SyncEngine.swift`).
/// 2. Completeness of the listing: disables need a `DirectorySnapshot`,
///    which exists only when every page of users, groups and memberships
///    arrived; any failure fails the run with nothing applied
///    (`WorkOSClient.snapshot(of:)` in `Sources/WorkOS/WorkOSClient+Snapshot.swift`,
///    the cursor, empty-page and page-ceiling checks in
///    `Sources/WorkOS/PageSequence.swift`, the proof type in
///    `Sources/WorkOSModel/DirectorySnapshot.swift`).
/// 3. Consistency: a group of another directory fails the plan
///    (`PlanningError.foreignObject`, `Planner.checkConsistency` in
///    `Sources/Reconciler/Planner.swift`); a user of another directory or
///    with a shared `idp_id` is quarantined and its account neither updated
///    nor disabled (`Quarantine.protects`/`skips` in
///    `Sources/Reconciler/Quarantine.swift`).
/// 4. A record without any usable id: every `missing` disable of the run is
///    withheld, since the missing account may be that record's person
///    (`Quarantine.holdsMissingDisables` in `Sources/Reconciler/Quarantine.swift`,
///    counted as `Plan.missingDisablesWithheld` by `Sources/Reconciler/Planner.swift`).
/// 4b. The absence debounce: an account absent from fewer than
///    ``missingAfterListings`` consecutive complete listings is not disabled
///    yet (`Plan.pendingAbsences`, counted in `directory_users.missing_listings`).
/// 5. The mass-disable guard and the empty listing: ``verdict(disables:activeAccounts:listedUsers:)``
///    here, applied by `Planner.plan` in `Sources/Reconciler/Planner.swift`;
///    explicit deactivations it spares (``sparesDeactivations(_:activeAccounts:)``,
///    `Plan.sparedFromHold` in `Sources/Reconciler/Plan.swift`).
/// 5b. The cross-check (hybrid mode): ``crossChecked(_:unexplained:)`` here,
///    applied by `Planner.plan`; the explained accounts are loaded by
///    `SyncStore.loadEventFeedHistory` in `Sources/Store/SyncStore+Events.swift`.
/// 6. The vanished directory: ``verdictForRemovedDirectory(disables:activeAccounts:)``
///    here, applied by `Planner.planDirectoryRemoved` in `Sources/Reconciler/Planner.swift`.
/// 7. Approval: held disables apply only through `Plan.approving(_:)`,
///    which refuses a held plan the fresh listing outgrew (`StaleApproval`,
///    `Sources/Reconciler/HeldPlan.swift`).
/// 8. The lease: a directory another replica holds is not run (`skipped`,
///    `SyncEngine.leased` in `Sources/SyncCore/SyncEngine.swift`), and an apply
///    whose session no longer holds the directory's advisory lock writes
///    nothing (`SyncStore.requireLease` in `Sources/Store/SyncStore.swift`,
///    called by `SyncStore.apply` in `Sources/Store/SyncStore+Apply.swift`;
///    `LeaseLost` in `Sources/Store/LeaseLost.swift`).
public struct SafetyPolicy: Sendable, Hashable {
    /// What to do with the accounts of a directory that vanished from `GET /directories`.
    public enum DirectoryRemovedAction: String, Sendable, Hashable, Codable {
        /// Hold the disables for an admin's approval (the default).
        case hold
        /// Disable the accounts at once.
        case disable
    }

    /// Disables up to this many never trip the guard. Default 25.
    public var minUsers: Int
    /// Disables up to this fraction of the active accounts never trip the guard. Default 0.10.
    public var fraction: Double
    /// Absolute cap: more disables than this always trip the guard. Default nil (no cap).
    public var maxUsers: Int?
    /// Default `.hold`.
    public var onDirectoryRemoved: DirectoryRemovedAction
    /// Hybrid mode: more `missing` disables than this that the event feed
    /// does not explain are held, even under the threshold. Default 10.
    public var maxUnexplained: Int
    /// Absence debounce (`guard.missing_after_listings`): an account is
    /// disabled as `missing` only once it has been absent from this many
    /// consecutive complete listings. Default 1 (the first absence disables).
    /// Explicit deactivations and `dsync.user.deleted` events are never debounced.
    public var missingAfterListings: Int
    /// Which user states disable (`deprovisioning.*`). Default: every state but `active`.
    public var deprovisioning: DeprovisioningPolicy

    public init(
        minUsers: Int = 25, fraction: Double = 0.10, maxUsers: Int? = nil, onDirectoryRemoved: DirectoryRemovedAction = .hold,
        maxUnexplained: Int = 10, missingAfterListings: Int = 1, deprovisioning: DeprovisioningPolicy = DeprovisioningPolicy()
    ) {
        self.maxUnexplained = maxUnexplained
        self.missingAfterListings = missingAfterListings
        self.deprovisioning = deprovisioning
        self.minUsers = minUsers
        self.fraction = fraction
        self.maxUsers = maxUsers
        self.onDirectoryRemoved = onDirectoryRemoved
    }

    /// The largest number of disables that may apply without approval.
    public func threshold(activeAccounts: Int) -> Int {
        let proportional = Int((fraction * Double(activeAccounts)).rounded(.down))
        let allowed = max(minUsers, proportional)
        return maxUsers.map { min($0, allowed) } ?? allowed
    }

    /// Whether `deactivations` explicit deactivations may apply while the
    /// listing's other disables are held: true within the threshold.
    public func sparesDeactivations(_ deactivations: Int, activeAccounts: Int) -> Bool {
        deactivations > 0 && deactivations <= threshold(activeAccounts: activeAccounts)
    }

    /// The verdict for the accounts of a vanished directory: held under
    /// `.hold`; under `.disable`, held all the same above the threshold, and
    /// (hybrid mode) unless the event feed confirmed the deletion.
    public func verdictForRemovedDirectory(disables: Int, activeAccounts: Int, deletionConfirmed: Bool = true) -> SafetyVerdict {
        guard disables > 0 else { return .proceed }
        if onDirectoryRemoved == .hold || !deletionConfirmed || disables > threshold(activeAccounts: activeAccounts) {
            return .hold(.directoryRemoved(accounts: disables))
        }
        return .proceed
    }

    /// The verdict for a listing of `listedUsers` users that would disable `disables` accounts.
    public func verdict(disables: Int, activeAccounts: Int, listedUsers: Int) -> SafetyVerdict {
        guard disables > 0 else { return .proceed }
        if listedUsers == 0 && activeAccounts > 0 {
            return .hold(.emptyListing(activeAccounts: activeAccounts))
        }
        let threshold = threshold(activeAccounts: activeAccounts)
        if disables > threshold {
            return .hold(.massDisable(disables: disables, threshold: threshold, activeAccounts: activeAccounts))
        }
        return .proceed
    }

    /// The cross-check (hybrid mode): `unexplained` disappearances above
    /// `maxUnexplained` hold a verdict that would otherwise proceed.
    public func crossChecked(_ verdict: SafetyVerdict, unexplained: Int?) -> SafetyVerdict {
        guard case .proceed = verdict, let unexplained, unexplained > maxUnexplained else { return verdict }
        return .hold(.unexplainedDisappearances(accounts: unexplained, limit: maxUnexplained))
    }
}

/// Whether a plan's disables may apply.
public enum SafetyVerdict: Sendable, Hashable {
    /// Everything applies.
    case proceed
    /// Creates and updates apply; disables go to `held_plans`.
    case hold(HoldReason)
    /// Disables apply because an admin approved exactly this set.
    case approved(heldPlanID: Int64)

    public var holdsDisables: Bool {
        if case .hold = self { return true }
        return false
    }
}

/// Why disables were held.
public enum HoldReason: Sendable, Hashable, CustomStringConvertible {
    case emptyListing(activeAccounts: Int)
    case massDisable(disables: Int, threshold: Int, activeAccounts: Int)
    case directoryRemoved(accounts: Int)
    case unexplainedDisappearances(accounts: Int, limit: Int)

    public var description: String {
        switch self {
        case .emptyListing(let active):
            "the listing is empty while \(active) active accounts are stored"
        case .massDisable(let disables, let threshold, let active):
            "\(disables) disables exceed the guard threshold of \(threshold) (of \(active) active accounts)"
        case .directoryRemoved(let accounts):
            "the directory vanished from the WorkOS listing; \(accounts) accounts would be disabled"
        case .unexplainedDisappearances(let accounts, let limit):
            "\(accounts) accounts are missing without a deletion or deactivation in the event feed (more than guard.max_unexplained = \(limit))"
        }
    }
}
