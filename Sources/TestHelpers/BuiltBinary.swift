public import Foundation

/// A test that needs what only a process can show (exit codes, signals, crashes) ran without a built executable.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// A built executable of this package (`workos-dsync`, `dsync-bench`).
///
/// `WORKOS_DSYNC_BINARY` names the `workos-dsync` one (the others are looked
/// for next to it); without it, the newest of `.build/debug` and
/// `.build-*/debug` next to the package.
public func builtBinary(_ name: String = "workos-dsync") throws -> URL {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["WORKOS_DSYNC_BINARY"], !path.isEmpty {
        let daemon = URL(fileURLWithPath: path)
        return name == "workos-dsync" ? daemon : daemon.deletingLastPathComponent().appendingPathComponent(name)
    }
    // Sources/TestHelpers/BuiltBinary.swift → the package root.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let folders = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0 == ".build" || $0.hasPrefix(".build-") }
    let candidates = folders.map { root.appendingPathComponent($0).appendingPathComponent("debug/\(name)") }
        .filter { FileManager.default.isExecutableFile(atPath: $0.path) }
    func modified(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
    }
    guard let newest = candidates.max(by: { modified($0) < modified($1) }) else {
        throw TestFailure(description: "build the executables first (swift build --build-tests) or set WORKOS_DSYNC_BINARY")
    }
    return newest
}
