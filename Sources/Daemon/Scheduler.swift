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
/// Replicas need nothing more: each run takes the directory's advisory-lock
/// lease, and a directory another replica holds is `skipped` (no run row).
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

        public init(tick: Duration = .milliseconds(250), backoffBase: Duration = .seconds(5), shutdownGrace: Duration = .seconds(20)) {
            self.tick = tick
            self.backoffBase = backoffBase
            self.shutdownGrace = shutdownGrace
        }
    }

    enum Event: Sendable {
        case tick
        case listed(Result<Listing, any Error>)
        case finished(worker: Int, report: DirectoryReport, gauges: DirectoryGauges?)
    }

    struct Listing: Sendable {
        var listed: [Directory]
        var known: [Directory]
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
            selection: initial.directories, now: clock.now)
        var idle = Array(workers.indices.reversed())
        var lastPet: ContinuousClock.Instant?
        var shutdownSince: ContinuousClock.Instant?
        var cancelled = false
        logger.info("scheduler started", metadata: [
            "sync.interval": "\(DurationText.format(plan.interval))", "sync.concurrency": "\(workers.count)",
        ])

        await withTaskGroup(of: Event.self) { group in
            var ticking = true
            group.addTask { try? await Task.sleep(for: tick); return .tick }
            loop: while let event = await group.next() {
                let now = clock.now
                let current = settings.current
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
                        let changes = plan.listingSucceeded(listed: listing.listed, known: listing.known, at: now)
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
                    plan.finished(report.directory.id, failed: report.outcome == .failed, at: now, random: random())
                    publishStatus(report, plan: plan)
                }

                // The watchdog ping comes from here: only a loop that turns pets.
                if let watchdog = notifier.watchdogInterval, lastPet.map({ now - $0 >= watchdog - tick }) ?? true {
                    notifier.send("WATCHDOG=1")
                    lastPet = now
                }

                if shuttingDown.load(ordering: .sequentiallyConsistent) || Task.isCancelled {
                    if shutdownSince == nil {
                        shutdownSince = now
                        notifier.send("STOPPING=1")
                        logger.notice("shutting down: no new runs; waiting for runs in flight", metadata: ["in_flight": "\(plan.running)"])
                    }
                    if plan.running == 0 && !plan.listingInFlight { break loop }
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
                            return .listed(.success(Listing(listed: listed, known: known)))
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
        logger.notice("scheduler stopped")
    }

    private func publishStatus(_ report: DirectoryReport, plan: SchedulePlan<ContinuousClock.Instant>) {
        var line = "last run: \(report.directory.id) \(report.outcome.rawValue)"
        if let summary = report.summary, report.outcome == .applied || report.outcome == .held { line += " (\(summary.line))" }
        line += "; \(plan.entries.count) directories, \(plan.failing) failing"
        lastStatus.withLock { $0 = line }
        notifier.send("STATUS=\(line)")
    }
}
