import Synchronization

/// The settings in force, replaced as a whole by a `SIGHUP` reload.
public final class SettingsBox: Sendable {
    private let value: Mutex<Settings>

    public init(_ settings: Settings) { value = Mutex(settings) }

    public var current: Settings { value.withLock { $0 } }

    package func replace(_ settings: Settings) { value.withLock { $0 = settings } }
}
