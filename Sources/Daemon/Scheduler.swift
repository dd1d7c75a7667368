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
/// `sync.concurrency` at once, backs off after failures (see ``RunTiming``),
/// and sends the systemd watchdog ping from the loop itself, so a wedged
/// loop stops petting and systemd restarts the process.
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

    /// One directory as the loop tracks it.
    struct Entry {
        var directory: Directory
        /// Known to the database but no longer listed by WorkOS.
        var vanished: Bool
        var nextDue: ContinuousClock.Instant
        var failures = 0
        var running = false
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
        var entries: [String: Entry] = [:]
        var idle = Array(workers.indices.reversed())
        var inFlight = 0
        var listingInFlight = false
        var listingDue = clock.now
        var listingFailures = 0
        var lastPet: ContinuousClock.Instant?
        var shutdownSince: ContinuousClock.Instant?
        var cancelled = false
        var interval = settings.current.interval
        logger.info("scheduler started", metadata: [
            "sync.interval": "\(DurationText.format(interval))", "sync.concurrency": "\(workers.count)",
        ])

        await withTaskGroup(of: Event.self) { group in
            var ticking = true
            group.addTask { try? await Task.sleep(for: tick); return .tick }
            loop: while let event = await group.next() {
                let now = clock.now
                let current = settings.current
                switch event {
                case .tick:
                    ticking = false
                case .listed(let result):
                    listingInFlight = false
                    switch result {
                    case .success(let listing):
                        listingFailures = 0
                        listingDue = now + current.interval
                        apply(listing, to: &entries, settings: current, now: now)
                    case .failure(let error):
                        listingFailures += 1
                        let delay = RunTiming.delay(
                            failures: listingFailures, interval: current.interval, base: configuration.backoffBase, random: random())
                        listingDue = now + delay
                        logger.error("cannot list directories; nothing touched, retrying", metadata: [
                            "error": "\(error)", "retry_in": "\(DurationText.format(delay))",
                        ])
                    }
                case .finished(let worker, let report, let gauges):
                    idle.append(worker)
                    inFlight -= 1
                    metrics.record(report)
                    if let gauges { metrics.update(directory: report.directory.id, gauges: gauges) }
                    let id = report.directory.id
                    if var entry = entries[id] {
                        entry.running = false
                        entry.failures = report.outcome == .failed ? entry.failures + 1 : 0
                        entry.nextDue = now + RunTiming.delay(
                            failures: entry.failures, interval: current.interval, base: configuration.backoffBase, random: random())
                        entries[id] = entry
                    }
                    publishStatus(report, entries: entries)
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
                        logger.notice("shutting down: no new runs; waiting for runs in flight", metadata: ["in_flight": "\(inFlight)"])
                    }
                    if inFlight == 0 && !listingInFlight { break loop }
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

                if current.interval != interval {
                    // A reload shortened (or lengthened) the interval: nobody waits longer than the new one.
                    interval = current.interval
                    for (id, entry) in entries where !entry.running {
                        entries[id]?.nextDue = min(entry.nextDue, now + RunTiming.jittered(interval, random: random()))
                    }
                    listingDue = min(listingDue, now + interval)
                }

                if !listingInFlight && now >= listingDue {
                    listingInFlight = true
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

                while !idle.isEmpty {
                    let due = entries.values.filter { !$0.running && $0.nextDue <= now }.min { $0.nextDue < $1.nextDue }
                    guard let due else { break }
                    let worker = idle.removeLast()
                    entries[due.directory.id]?.running = true
                    inFlight += 1
                    let runner = workers[worker]
                    let directory = due.directory
                    let vanished = due.vanished
                    group.addTask { [settings] in
                        let (report, gauges) = await runner.run(directory, vanished: vanished, settings: settings.current)
                        return .finished(worker: worker, report: report, gauges: gauges)
                    }
                }

                if !ticking {
                    group.addTask { try? await Task.sleep(for: tick); return .tick }
                    ticking = true
                }
            }
            group.cancelAll()
        }
        logger.notice("scheduler stopped")
    }

    /// Merges a listing into the tracked directories: new ones are due now,
    /// vanished ones go through the engine's removal path, out-of-scope ones are dropped.
    private func apply(_ listing: Listing, to entries: inout [String: Entry], settings: Settings, now: ContinuousClock.Instant) {
        func selected(_ id: String) -> Bool { settings.directories.isEmpty || settings.directories.contains(id) }
        let listed = listing.listed.filter { selected($0.id) }
        let listedIDs = Set(listed.map(\.id))
        var keep: Set<String> = []
        for directory in listed {
            keep.insert(directory.id)
            if var entry = entries[directory.id] {
                entry.directory = directory
                entry.vanished = false
                entries[directory.id] = entry
            } else {
                metrics.register(directory: directory.id)
                entries[directory.id] = Entry(directory: directory, vanished: false, nextDue: now)
                logger.info("directory picked up", metadata: ["directory.id": "\(directory.id)", "directory.state": "\(directory.state.rawValue)"])
            }
        }
        for directory in listing.known where !listedIDs.contains(directory.id) && selected(directory.id) {
            keep.insert(directory.id)
            if entries[directory.id]?.vanished != true {
                metrics.register(directory: directory.id)
                let running = entries[directory.id]?.running ?? false
                entries[directory.id] = Entry(directory: directory, vanished: true, nextDue: now, running: running)
                logger.warning("directory vanished from the WorkOS listing", metadata: ["directory.id": "\(directory.id)"])
            }
        }
        for (id, entry) in entries where !keep.contains(id) && !entry.running {
            entries[id] = nil
        }
    }

    private func publishStatus(_ report: DirectoryReport, entries: [String: Entry]) {
        let failing = entries.values.filter { $0.failures > 0 }.count
        var line = "last run: \(report.directory.id) \(report.outcome.rawValue)"
        if let summary = report.summary, report.outcome == .applied || report.outcome == .held { line += " (\(summary.line))" }
        line += "; \(entries.count) directories, \(failing) failing"
        lastStatus.withLock { $0 = line }
        notifier.send("STATUS=\(line)")
    }
}
