import Foundation
import Glibc
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
            let formatter = LogLineFormatter(
                format: LogLineFormatter.Format(rawValue: settings.logFormat) ?? .logfmt,
                journalPriorities: standardErrorIsJournal(ProcessInfo.processInfo.environment["JOURNAL_STREAM"]))
            let control = levelControl
            LoggingSystem.bootstrap { label in
                StructuredLogHandler(label: label, formatter: formatter, control: control)
            }
        }
        return Logger(label: label)
    }

    /// Whether standard error is the journal stream systemd named in
    /// `JOURNAL_STREAM` (`DEVICE:INODE`): then each line gets its `<N>` priority.
    /// Compared with file descriptor 2, so output redirected elsewhere (a pipe
    /// to a file, `2>log`) by a service's child stays plain.
    public static func standardErrorIsJournal(_ journalStream: String?) -> Bool {
        guard let journalStream else { return false }
        let parts = journalStream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(2, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
