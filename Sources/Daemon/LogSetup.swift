public import Logging
import Foundation

/// Bootstraps swift-log once per process from the `log.*` settings.
public enum LogSetup {
    /// Sets the log handler (standard error) and returns a logger with `label`.
    public static func bootstrap(settings: Settings, label: String) -> Logger {
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
