public import Logging
import Synchronization

/// The process-wide log level, changeable at run time (`SIGHUP` reload).
public final class LogLevelControl: Sendable {
    private let value: Mutex<Logger.Level>

    public init(_ level: Logger.Level) { value = Mutex(level) }

    public var level: Logger.Level {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
