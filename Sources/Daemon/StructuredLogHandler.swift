import Foundation
import Glibc
public import Logging
import Synchronization

/// The daemon's swift-log handler: one line per event on standard error (or
/// a given sink), in logfmt or JSON (see ``LogLineFormatter``).
///
/// The level comes from a shared ``LogLevelControl`` unless this handler's
/// level was set directly, so a `SIGHUP` reload changes it for every logger.
public struct StructuredLogHandler: LogHandler {
    /// Where lines go: one call per line, newline included.
    public typealias Sink = @Sendable (String) -> Void

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let formatter: LogLineFormatter
    private let control: LogLevelControl
    private var ownLevel: Logger.Level?
    private let sink: Sink

    public init(
        label: String, formatter: LogLineFormatter, control: LogLevelControl,
        metadataProvider: Logger.MetadataProvider? = nil, sink: @escaping Sink = StructuredLogHandler.standardError
    ) {
        self.label = label
        self.formatter = formatter
        self.control = control
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public var logLevel: Logger.Level {
        get { ownLevel ?? control.level }
        set { ownLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        sink(formatter.line(level: event.level, label: label, message: event.message.description, metadata: merged, timestamp: Date()) + "\n")
    }

    /// Writes a line to file descriptor 2 with one `write(2)` (lines from
    /// several threads do not interleave below PIPE_BUF).
    public static let standardError: Sink = { line in
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
