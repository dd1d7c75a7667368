import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Reloads the config on every `SIGHUP` until graceful shutdown.
final class ReloadService: Service, Sendable {
    let app = Mutex<DaemonApp?>(nil)
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.notice("SIGHUP: reloading the config")
            app.withLock { $0 }?.reload()
        }
    }
}
