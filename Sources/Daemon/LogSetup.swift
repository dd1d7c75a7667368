import Foundation
public import Logging
public import SyncCore
import Synchronization

/// Bootstraps swift-log once per process from the `log.*` settings: one
/// line per event on standard error, logfmt or JSON, no colours.
public enum LogSetup {
    /// The level every bootstrapped handler follows; `SIGHUP` reloads change it.
    public static let levelControl = LogLevelControl(.info)

    private static let bootstrapped = Mutex(false)

    /// Sets the log handler (standard error) and returns a logger with `label`.
    /// A second call only updates the level.
    public static func bootstrap(settings: Settings, label: String) -> Logger {
        levelControl.level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        if first {
            let formatter = LogLineFormatter(format: LogLineFormatter.Format(rawValue: settings.logFormat) ?? .logfmt)
            let control = levelControl
            LoggingSystem.bootstrap { label in
                StructuredLogHandler(label: label, formatter: formatter, control: control)
            }
        }
        return Logger(label: label)
    }
}
