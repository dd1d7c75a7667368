import Foundation
public import Logging

/// The logger tests hand to the code under test: warnings and errors only
/// (everything from debug up with `WORKOS_TEST_LOG` set), so a passing run stays readable.
public let quietLogger: Logger = {
    var logger = Logger(label: "workos-dsync.tests")
    logger.logLevel = ProcessInfo.processInfo.environment["WORKOS_TEST_LOG"] == nil ? .warning : .debug
    return logger
}()

extension Logger {
    /// ``quietLogger``, where a `Logger` is expected (`logger: .quiet`).
    public static var quiet: Logger { quietLogger }
}
