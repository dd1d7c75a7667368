import Foundation
import Logging
import Reconciler
public import ServiceLifecycle
import Store
public import SyncCore
import Synchronization
import WorkOS
import WorkOSModel

/// The scheduling loop: lists directories every `sync.interval`, reconciles
/// each directory every `sync.interval` (±10 % jitter), at most
/// `sync.concurrency` at once, backs off after failures, and sends the
/// systemd watchdog ping from the loop itself, so a wedged loop stops petting
/// and systemd restarts the process. What is due, what may start and how
/// long to wait are decided by a ``SchedulePlan``; the loop executes them.
///
/// Replicas share the schedule through PostgreSQL (`directory_schedule`):
/// before a run the lane claims the directory (due across all replicas, no
/// live claim elsewhere); the claim is renewed by the heartbeat while the
/// run goes on and released with the next due time when it ends, so each
/// directory is listed once per interval across replicas, and a dead
/// replica's claims expire after `sync.claim_ttl` for another to
/// take over. The heartbeat (a `replicas` row) also counts the live replicas:
/// each paces the API key at `requests_per_second / live replicas`. The
/// advisory-lock lease still guards every apply (a directory another
/// replica holds is `skipped`, no run row).
///
/// On graceful shutdown nothing new starts; runs in flight get
/// ``Configuration/shutdownGrace`` to finish, then they are cancelled: a
/// listing stops (nothing applied), an apply already sent commits or rolls
/// back as one transaction.
public final class Scheduler: Service, Sendable {
    /// Timing of the loop itself.
    public struct Configuration: Sendable {
        /// How often the loop wakes when nothing happens. Default 250 ms (at most a quarter of the watchdog period).
        public var tick: Duration
        /// The first retry delay after a failure; doubles up to `sync.interval`. Default 5 s.
        public var backoffBase: Duration
        /// How long runs in flight may go on once shutdown began. Default 20 s.
        public var shutdownGrace: Duration
        /// How often a long listing's progress is logged and shown in `STATUS=`. Default 30 s.
        public var progressEvery: Duration

        public init(
            tick: Duration = .milliseconds(250), backoffBase: Duration = .seconds(5), shutdownGrace: Duration = .seconds(20),
            progressEvery: Duration = .seconds(30)
        ) {
            self.tick = tick
            self.backoffBase = backoffBase
            self.shutdownGrace = shutdownGrace
            self.progressEvery = progressEvery
        }
    }

    enum Event: Sendable {
        case tick
        case listed(Result<Listing, any Error>)
        case finished(worker: Int, report: DirectoryReport, gauges: DirectoryGauges?)
        /// The lane could not claim the directory: another replica ran it this interval or holds it.
        case deferred(worker: Int, row: ScheduledDirectory)
        /// The claim itself failed (the database): retried with backoff, no run row.
        case claimFailed(worker: Int, directoryID: String, error: any Error)
        case heartbeat(Result<Int, any Error>)
        case released
    }

    struct Listing: Sendable {
        var listed: [Directory]
        var known: [Directory]
        var shared: [ScheduledDirectory]
    }

    private let client: WorkOSClient
    private let control: SyncStore
    private let workers: [DirectoryWorker]
    private let settings: SettingsBox
    private let metrics: DaemonMetrics
    private let notifier: SystemdNotifier
    private let logger: Logger
    private let random: @Sendable () -> Double
    private let configuration: Configuration
    private let shuttingDown = Atomic<Bool>(false)
    private let lastStatus = Mutex<String>("starting")
    /// This process's name in the shared schedule: host, pid and a random suffix.
    let replicaID: String

    init(
        client: WorkOSClient, control: SyncStore, workers: [DirectoryWorker], settings: SettingsBox, metrics: DaemonMetrics,
        notifier: SystemdNotifier, configuration: Configuration, logger: Logger,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.client = client
        self.control = control
        self.workers = workers
        self.settings = settings
        self.metrics = metrics
        self.notifier = notifier
        self.configuration = configuration
        self.logger = logger
        self.random = random
        self.replicaID = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The last `STATUS=` line.
    public var status: String { lastStatus.withLock { $0 } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await loop()
        } onGracefulShutdown: {
            self.shuttingDown.store(true, ordering: .sequentiallyConsistent)
        }
    }

    private func loop() async {
        let clock = ContinuousClock()
        let tick = notifier.watchdogInterval.map { min(configuration.tick, $0 / 2) } ?? configuration.tick
        let initial = settings.current
        // The decisions (what is due, backoff, concurrency) are the plan's; this loop executes them.
        var plan = SchedulePlan(
            interval: initial.interval, concurrency: workers.count, backoffBase: configuration.backoffBase,
            selection: initial.directories, maxUsersInMemory: initial.maxUsersInMemory, now: clock.now)
        let replica = replicaID
        let ttl = initial.claimTTL
        var heartbeatDue = clock.now
        var heartbeatInFlight = false
        var beatenOnce = false
        var liveReplicas = 1
        var progressDue = clock.now.advanced(by: configuration.progressEvery)
        var releasesInFlight = 0
        var idle = Array(workers.indices.reversed())
        var lastPet: ContinuousClock.Instant?
        var shutdownSince: ContinuousClock.Instant?
        var cancelled = false
        logger.info("scheduler started", metadata: [
            "sync.interval": "\(DurationText.format(plan.interval))", "sync.concurrency": "\(workers.count)",
            "sync.max_users_in_memory": "\(plan.maxUsersInMemory)", "replica": "\(replica)",
        ])

        // A start, like a reload, makes nobody wait longer than the interval in force
        // (the shared schedule outlives restarts: a restart does not relist every directory).
        do {
            try await control.capNextDue(within: initial.interval)
        } catch {
            logger.warning("cannot read the shared schedule yet; retrying with the first claims", metadata: ["error": "\(error)"])
        }

        await withTaskGroup(of: Event.self) { group in
            var ticking = true
            group.addTask { try? await Task.sleep(for: tick); return .tick }
            loop: while let event = await group.next() {
                let now = clock.now
                let current = settings.current
                if current.interval < plan.interval {
                    // The shared schedule first, or the next claims would still wait for the old due times.
                    do {
                        try await control.capNextDue(within: current.interval)
                    } catch {
                        logger.warning("cannot shorten the shared schedule to the new interval; it applies from each directory's next run", metadata: [
                            "error": "\(error)",
                        ])
                    }
                }
                if current.interval != plan.interval || current.directories != plan.selection {
                    // A reload: nobody waits longer than the new interval; deselected directories are forgotten.
                    let dropped = plan.reload(interval: current.interval, selection: current.directories, at: now, random: random)
                    for id in dropped {
                        logger.info("directory left out of sync.directories; no longer scheduled", metadata: ["directory.id": "\(id)"])
                    }
                }
                switch event {
                case .tick:
                    ticking = false
                case .listed(let result):
                    switch result {
                    case .success(let listing):
                        let shared = Dictionary(
                            listing.shared.map { ($0.directoryID, (claimableIn: $0.claimableIn, expectedUsers: $0.lastUsers)) },
                            uniquingKeysWith: { first, _ in first })
                        let changes = plan.listingSucceeded(listed: listing.listed, known: listing.known, shared: shared, at: now)
                        for directory in changes.pickedUp {
                            metrics.register(directory: directory)
                            logger.info("directory picked up", metadata: [
                                "directory.id": "\(directory.id)", "directory.state": "\(directory.state.rawValue)",
                            ])
                        }
                        for directory in changes.vanished {
                            metrics.register(directory: directory)
                            logger.warning("directory vanished from the WorkOS listing", metadata: ["directory.id": "\(directory.id)"])
                        }
                    case .failure(let error):
                        let delay = plan.listingFailed(at: now, random: random())
                        logger.error("cannot list directories; nothing touched, retrying", metadata: [
                            "error": "\(error)", "retry_in": "\(DurationText.format(delay))",
                        ])
                    }
                case .finished(let worker, let report, let gauges):
                    idle.append(worker)
                    metrics.record(report)
                    if let gauges { metrics.update(directory: report.directory.id, gauges: gauges) }
                    let id = report.directory.id
                    let users = report.listedUsers
                    let ran = !report.leaseHeldElsewhere
                    let next: Duration
                    if ran {
                        let draw = random()
                        next = plan.finished(id, failed: report.outcome == .failed, users: users, at: now, random: draw)
                            ?? plan.backoff(failures: 0, random: draw)
                    } else {
                        // Claimed, but another session still holds the directory's lease (a replica whose claim
                        // lapsed is still listing it): nothing ran here, so the directory stays due; ask again
                        // once that replica's run could have ended or its session gone.
                        next = ttl
                        plan.deferred(id, claimableIn: next, expectedUsers: nil, at: now)
                    }
                    // The shared schedule learns the next due time; until then the claim keeps other replicas off.
                    releasesInFlight += 1
                    group.addTask { [control] in
                        do {
                            try await control.release(id, replica: replica, nextDueIn: next, users: users, ran: ran)
                        } catch {
                            // The claim expires on its own; the directory is then due again for every replica.
                            self.logger.warning("cannot record the next due time; the claim will expire", metadata: [
                                "directory.id": "\(id)", "error": "\(error)",
                            ])
                        }
                        return .released
                    }
                    publishStatus(report, plan: plan)
                case .deferred(let worker, let row):
                    idle.append(worker)
                    plan.deferred(row.directoryID, claimableIn: row.claimableIn, expectedUsers: row.lastUsers, at: now)
                    logger.debug("directory not claimable; another replica runs it or ran it this interval", metadata: [
                        "directory.id": "\(row.directoryID)", "claimable_in": "\(DurationText.format(row.claimableIn))",
                    ])
                case .claimFailed(let worker, let id, let error):
                    idle.append(worker)
                    let delay = plan.finished(id, failed: true, at: now, random: random())
                    logger.error("cannot claim the directory in the shared schedule; nothing listed, retrying", metadata: [
                        "directory.id": "\(id)", "error": "\(error)", "retry_in": "\(delay.map { DurationText.format($0) } ?? "-")",
                    ])
                case .heartbeat(let result):
                    heartbeatInFlight = false
                    switch result {
                    case .success(let live):
                        metrics.replicasLive(live)
                        if live != liveReplicas {
                            liveReplicas = live
                            client.setKeyShare(1 / Double(max(live, 1)))
                            let settingsNow = settings.current
                            plan.shareLanes = live > 1
                                ? Settings.lanesForBudget(
                                    requestsPerSecond: settingsNow.requestsPerSecond / Double(live),
                                    directoryUsersPerSecond: settingsNow.directoryUsersPerSecond)
                                : nil
                            logger.notice("live replicas changed; pacing the API key at its share", metadata: [
                                "replicas": "\(live)", "lanes": "\(plan.lanes)", "requests_per_second": "\(client.keyRate.map { String(format: "%.1f", $0) } ?? "unpaced")",
                            ])
                        }
                    case .failure(let error):
                        logger.warning("replica heartbeat failed; claims expire unless renewed", metadata: ["error": "\(error)"])
                    }
                case .released:
                    releasesInFlight -= 1
                }

                if now >= progressDue {
                    progressDue = now.advanced(by: configuration.progressEvery)
                    reportProgress(plan: plan)
                }

                // The watchdog ping comes from here: only a loop that turns pets.
                if let watchdog = notifier.watchdogInterval, lastPet.map({ now - $0 >= watchdog - tick }) ?? true {
                    notifier.send("WATCHDOG=1")
                    lastPet = now
                }

                // Heartbeats go on while runs are in flight, shutting down included: their claims must not
                // lapse while they finish (another replica would claim a directory still being applied).
                let stopping = shuttingDown.load(ordering: .sequentiallyConsistent) || Task.isCancelled
                if !heartbeatInFlight && now >= heartbeatDue && (!stopping || plan.running > 0) {
                    heartbeatInFlight = true
                    // The second beat comes after a second: replicas started together learn of each other at once.
                    heartbeatDue = now.advanced(by: beatenOnce ? ttl / 3 : min(ttl / 3, .seconds(1)))
                    beatenOnce = true
                    let running = plan.runningIDs
                    group.addTask { [control] in
                        do {
                            let live = try await control.heartbeat(
                                replica: replica, host: ProcessInfo.processInfo.hostName,
                                pid: Int(ProcessInfo.processInfo.processIdentifier), running: running, ttl: ttl)
                            return .heartbeat(.success(live))
                        } catch {
                            return .heartbeat(.failure(error))
                        }
                    }
                }

                if stopping {
                    if shutdownSince == nil {
                        shutdownSince = now
                        notifier.send("STOPPING=1")
                        logger.notice("shutting down: no new runs; waiting for runs in flight", metadata: ["in_flight": "\(plan.running)"])
                    }
                    if plan.running == 0 && !plan.listingInFlight && releasesInFlight == 0 && !heartbeatInFlight { break loop }
                    if !cancelled, let since = shutdownSince, now - since >= configuration.shutdownGrace || Task.isCancelled {
                        logger.warning("runs still in flight after the shutdown grace; cancelling them (a transaction commits or rolls back whole)")
                        group.cancelAll()
                        cancelled = true
                    }
                    if !ticking && !cancelled {
                        group.addTask { try? await Task.sleep(for: tick); return .tick }
                        ticking = true
                    }
                    continue
                }

                if plan.startListingIfDue(at: now) {
                    group.addTask { [client, control] in
                        do {
                            let listed = try await client.listDirectories()
                            let known = try await control.knownDirectories()
                            let ids = Set(listed.map(\.id)).union(known.map(\.id)).sorted()
                            let shared = try await control.schedule(of: ids)
                            return .listed(.success(Listing(listed: listed, known: known, shared: shared)))
                        } catch {
                            return .listed(.failure(error))
                        }
                    }
                }

                for entry in plan.startDue(at: now) {
                    // The plan starts at most `concurrency` (= workers.count) at once: a lane is free.
                    let worker = idle.removeLast()
                    let runner = workers[worker]
                    let directory = entry.directory
                    let vanished = entry.vanished
                    group.addTask { [settings] in
                        do {
                            if case .notClaimable(let row) = try await runner.store.claim(directory.id, replica: replica, ttl: ttl) {
                                return .deferred(worker: worker, row: row)
                            }
                        } catch {
                            return .claimFailed(worker: worker, directoryID: directory.id, error: error)
                        }
                        let (report, gauges) = await runner.run(directory, vanished: vanished, settings: settings.current)
                        return .finished(worker: worker, report: report, gauges: gauges)
                    }
                }

                if !ticking {
                    // Until the next directory or listing is due, at most one tick (the watchdog, shutdown, reloads).
                    let pause = max(plan.sleep(at: clock.now, atMost: tick), .milliseconds(1))
                    group.addTask { try? await Task.sleep(for: pause); return .tick }
                    ticking = true
                }
            }
            group.cancelAll()
        }
        do {
            try await control.leave(replica: replica)
        } catch {
            logger.warning("cannot leave the shared schedule; this replica's claims expire on their own", metadata: ["error": "\(error)"])
        }
        logger.notice("scheduler stopped")
    }

    /// Logs each listing in flight (pages and users so far; the pages of its
    /// last listing in this process and an estimate of the time left; the users
    /// of its last listing by any replica), sets the in-flight gauges and sends
    /// a `STATUS=` line.
    private func reportProgress(plan: SchedulePlan<ContinuousClock.Instant>) {
        let listings = client.listingsInProgress()
        metrics.listingsInProgress(listings)
        guard !listings.isEmpty else { return }
        for listing in listings {
            var metadata: Logger.Metadata = [
                "directory.id": "\(listing.directoryID)", "pages": "\(listing.pages)", "users": "\(listing.users)",
                "elapsed_s": "\(listing.elapsed.components.seconds)",
            ]
            if let expected = listing.expectedPages { metadata["expected_pages"] = "\(expected)" }
            // The shared schedule's size of its last listing, by whichever replica made it.
            if let users = plan.entries[listing.directoryID]?.expectedUsers { metadata["expected_users"] = "\(users)" }
            if let remaining = listing.estimatedRemaining { metadata["eta_s"] = "\(remaining.components.seconds)" }
            logger.info("directory listing in progress", metadata: metadata)
        }
        let longest = listings.max { $0.elapsed < $1.elapsed }!
        var line = "\(listings.count) listings in flight; longest \(longest.directoryID): \(longest.pages) pages"
        if let expected = longest.expectedPages { line += " of ~\(expected)" }
        line += "; \(plan.entries.count) directories, \(plan.failing) failing"
        lastStatus.withLock { $0 = line }
        notifier.send("STATUS=\(line)")
    }

    private func publishStatus(_ report: DirectoryReport, plan: SchedulePlan<ContinuousClock.Instant>) {
        var line = "last run: \(report.directory.id) \(report.outcome.rawValue)"
        if let summary = report.summary, report.outcome == .applied || report.outcome == .held { line += " (\(summary.line))" }
        line += "; \(plan.entries.count) directories, \(plan.failing) failing"
        lastStatus.withLock { $0 = line }
        notifier.send("STATUS=\(line)")
    }
}
