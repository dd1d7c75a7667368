public import WorkOSModel

/// The scheduler's decisions as a value: which directories are due, which
/// may start under `sync.concurrency`, how long a failing directory (or a
/// failing listing) backs off, and how long the loop may sleep.
///
/// Pure, like the planner: every decision takes the current instant as an
/// argument, and a uniform random draw in `0..<1` where jitter applies;
/// nothing here reads a clock, sleeps, logs or does I/O. ``Scheduler`` keeps
/// one, tells it what happened (a listing, a finished run, a reload) and
/// executes what it answers; tests drive it with instants they choose.
///
/// The rules (timings from ``RunTiming``):
/// - The directory listing is due at once, then every `interval` after a
///   success; after `n` failures in a row it is retried with backoff.
/// - A directory that appears in the listing (and is selected by
///   `sync.directories`) is due at once; one the database knows but the
///   listing no longer has is *vanished* and due at once too, for the
///   engine's removal path. One that is neither listed nor known, or no
///   longer selected, is forgotten — after its run when it is running.
/// - After a run that did not fail, a directory is due one jittered
///   `interval` later; after `n` failed runs in a row, after
///   ``RunTiming/delay(failures:interval:base:random:)``: doubling from
///   `backoffBase`, jittered, never more than `interval`.
/// - At most `concurrency` directories run at once; the earliest due first.
/// - A reload that changes the interval makes nobody wait longer than the
///   new one (jittered); one that narrows `sync.directories` forgets the
///   directories left out.
public struct SchedulePlan<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// One directory as the plan tracks it.
    public struct Entry: Sendable, Equatable {
        public var directory: Directory
        /// Known to the database but no longer listed by WorkOS: runs the engine's removal path.
        public var vanished: Bool
        /// When it may run next (it is due once this instant has come).
        public var nextDue: Instant
        /// Failed runs in a row (0 after any run that did not fail).
        public var failures: Int
        public var running: Bool
        /// Out of scope while it ran: forgotten when its run finishes.
        public var retiring: Bool

        init(directory: Directory, vanished: Bool, nextDue: Instant, failures: Int = 0, running: Bool = false) {
            self.directory = directory
            self.vanished = vanished
            self.nextDue = nextDue
            self.failures = failures
            self.running = running
            self.retiring = false
        }
    }

    /// What a listing changed, for the loop to log and to register metrics.
    public struct ListingChanges: Sendable, Equatable {
        /// Listed for the first time (or again after being forgotten): due now.
        public var pickedUp: [Directory] = []
        /// Known to the database, no longer listed: due now, through the removal path.
        public var vanished: [Directory] = []
        /// Neither listed nor known any more: forgotten (after their run, if running).
        public var dropped: [String] = []

        /// Nothing changed.
        public var isEmpty: Bool { pickedUp.isEmpty && vanished.isEmpty && dropped.isEmpty }
    }

    /// `sync.interval` in force.
    public private(set) var interval: Duration
    /// `sync.directories` in force (empty: every directory).
    public private(set) var selection: [String]
    /// `sync.concurrency`: at most this many runs at once (fixed for the life of the process).
    public let concurrency: Int
    /// The first retry delay after a failure (``Scheduler/Configuration/backoffBase``).
    public let backoffBase: Duration
    /// The directories tracked, by id.
    public private(set) var entries: [String: Entry] = [:]
    /// When the directory listing is due next.
    public private(set) var listingDue: Instant
    /// Failed listings in a row.
    public private(set) var listingFailures = 0
    /// A listing was started and has not been reported yet.
    public private(set) var listingInFlight = false

    /// A plan with nothing tracked yet; the first listing is due at `now`.
    public init(interval: Duration, concurrency: Int, backoffBase: Duration = .seconds(5), selection: [String] = [], now: Instant) {
        self.interval = interval
        self.selection = selection
        self.concurrency = max(1, concurrency)
        self.backoffBase = backoffBase
        self.listingDue = now
    }

    // MARK: - Questions

    /// Runs in flight.
    public var running: Int { entries.values.count(where: \.running) }

    /// Directories whose last run failed.
    public var failing: Int { entries.values.count(where: { $0.failures > 0 }) }

    /// Whether `id` is in scope of `sync.directories`.
    public func isSelected(_ id: String) -> Bool { selection.isEmpty || selection.contains(id) }

    /// The directories due at `now` and not running, the earliest due first (ties by id).
    public func due(at now: Instant) -> [Entry] {
        entries.values.filter { !$0.running && $0.nextDue <= now }
            .sorted { ($0.nextDue, $0.directory.id) < ($1.nextDue, $1.directory.id) }
    }

    /// The delay before the next run after `failures` failed runs in a row (0: a success):
    /// capped at the interval and jittered by `random` (see ``RunTiming``).
    public func backoff(failures: Int, random: Double) -> Duration {
        RunTiming.delay(failures: failures, interval: interval, base: backoffBase, random: random)
    }

    /// The next instant something may start: the listing when it is not in
    /// flight, a directory when a lane is free. Nil when everything waits for a
    /// run or the listing to finish (the loop is woken by that).
    public func nextWake() -> Instant? {
        var next = listingInFlight ? nil : listingDue
        if running < concurrency, let directory = entries.values.filter({ !$0.running }).map(\.nextDue).min() {
            next = next.map { min($0, directory) } ?? directory
        }
        return next
    }

    /// How long the loop may sleep at `now`: until ``nextWake()``, never more than `limit`.
    public func sleep(at now: Instant, atMost limit: Duration) -> Duration {
        guard let next = nextWake() else { return limit }
        return min(max(now.duration(to: next), .zero), limit)
    }

    // MARK: - Decisions

    /// Starts the listing when it is due and not in flight; true when the caller must list now.
    public mutating func startListingIfDue(at now: Instant) -> Bool {
        guard !listingInFlight && now >= listingDue else { return false }
        listingInFlight = true
        return true
    }

    /// Starts as many due directories as there are free lanes (`concurrency`
    /// minus those running), the earliest due first; returns them, now running.
    public mutating func startDue(at now: Instant) -> [Entry] {
        let started = Array(due(at: now).prefix(max(0, concurrency - running)))
        for entry in started { entries[entry.directory.id]?.running = true }
        return started.map { entry in
            var entry = entry
            entry.running = true
            return entry
        }
    }

    /// Merges a successful listing: `listed` are the directories WorkOS lists,
    /// `known` those the database knows. The next listing is due one interval later.
    public mutating func listingSucceeded(listed: [Directory], known: [Directory], at now: Instant) -> ListingChanges {
        listingInFlight = false
        listingFailures = 0
        listingDue = now.advanced(by: interval)
        var changes = ListingChanges()
        let listed = listed.filter { isSelected($0.id) }
        let listedIDs = Set(listed.map(\.id))
        var keep: Set<String> = []
        for directory in listed {
            keep.insert(directory.id)
            if var entry = entries[directory.id] {
                entry.directory = directory
                entry.vanished = false
                entry.retiring = false
                entries[directory.id] = entry
            } else {
                entries[directory.id] = Entry(directory: directory, vanished: false, nextDue: now)
                changes.pickedUp.append(directory)
            }
        }
        for directory in known where !listedIDs.contains(directory.id) && isSelected(directory.id) {
            keep.insert(directory.id)
            if entries[directory.id]?.vanished != true {
                let running = entries[directory.id]?.running ?? false
                entries[directory.id] = Entry(directory: directory, vanished: true, nextDue: now, running: running)
                changes.vanished.append(directory)
            } else {
                entries[directory.id]?.retiring = false
            }
        }
        for id in entries.keys.sorted() where !keep.contains(id) && entries[id]?.retiring != true {
            changes.dropped.append(id)
            forget(id)
        }
        return changes
    }

    /// Records a failed listing; returns the delay until it is retried (backoff, see ``RunTiming``).
    public mutating func listingFailed(at now: Instant, random: Double) -> Duration {
        listingInFlight = false
        listingFailures += 1
        let delay = backoff(failures: listingFailures, random: random)
        listingDue = now.advanced(by: delay)
        return delay
    }

    /// Records the end of `id`'s run; returns the delay until its next run,
    /// or nil when the directory is no longer tracked (forgotten meanwhile).
    @discardableResult
    public mutating func finished(_ id: String, failed: Bool, at now: Instant, random: Double) -> Duration? {
        guard var entry = entries[id] else { return nil }
        guard !entry.retiring else {
            entries[id] = nil
            return nil
        }
        entry.running = false
        entry.failures = failed ? entry.failures + 1 : 0
        let delay = backoff(failures: entry.failures, random: random)
        entry.nextDue = now.advanced(by: delay)
        entries[id] = entry
        return delay
    }

    /// Applies reloaded settings: a changed interval caps every wait (and the
    /// listing's) at the new interval, jittered with one draw of `random` per
    /// directory; directories left out of a narrowed `sync.directories` are
    /// forgotten (after their run, if running). Returns the ids forgotten.
    @discardableResult
    public mutating func reload(interval newInterval: Duration, selection newSelection: [String], at now: Instant, random: () -> Double) -> [String] {
        if newInterval != interval {
            interval = newInterval
            for (id, entry) in entries.sorted(by: { $0.key < $1.key }) where !entry.running {
                entries[id]?.nextDue = min(entry.nextDue, now.advanced(by: RunTiming.jittered(newInterval, random: random())))
            }
            listingDue = min(listingDue, now.advanced(by: newInterval))
        }
        selection = newSelection
        var dropped: [String] = []
        for id in entries.keys.sorted() where !isSelected(id) && entries[id]?.retiring != true {
            dropped.append(id)
            forget(id)
        }
        return dropped
    }

    /// Removes `id` now, or when its run finishes.
    private mutating func forget(_ id: String) {
        if entries[id]?.running == true {
            entries[id]?.retiring = true
        } else {
            entries[id] = nil
        }
    }
}
