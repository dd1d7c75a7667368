public import Foundation
import Glibc
import PostgresTestSupport
import Synchronization

/// A child process started with `posix_spawn`: the part of Foundation's
/// `Process` the tests use (executable, arguments, environment, standard
/// streams as `Pipe`s or `FileHandle`s, wait, status, signals).
///
/// Foundation's `Process.run()` on Linux scans `/proc/self/fd` and copies 256
/// bytes of each entry's name however short the entry is; when the last
/// entry ends near an unmapped page the test process dies with SIGSEGV
/// (swift-corelibs-foundation issue 5472, fixed only after Swift 6.3). It
/// crashed this suite twice in CI, once with every start serialised, so the
/// tests do not call it: this type spawns directly and closes every
/// inherited descriptor above 2 in the child (`closefrom`).
public final class SpawnedProcess: @unchecked Sendable {
    /// How the child ended, as `Process.TerminationReason`.
    public enum TerminationReason: Sendable, Equatable {
        case exit
        case uncaughtSignal
    }

    public var executableURL: URL?
    public var arguments: [String] = []
    /// nil: this process's environment.
    public var environment: [String: String]?
    /// A `Pipe`, a `FileHandle` (`FileHandle.nullDevice` for /dev/null) or nil (inherited).
    public var standardInput: Any?
    public var standardOutput: Any?
    public var standardError: Any?
    public private(set) var processIdentifier: Int32 = 0

    /// The raw `waitpid` status once the child was reaped.
    private let reaped = Mutex<Int32?>(nil)

    public init() {}

    /// Starts the child. Throws when it cannot be spawned.
    public func run() throws {
        guard let executable = executableURL?.path else { throw SpawnFailure(description: "no executable") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEndsToClose: [FileHandle] = []
        for (target, stream, childReads) in [(Int32(0), standardInput, true), (1, standardOutput, false), (2, standardError, false)] {
            switch stream {
            case let pipe as Pipe:
                let childEnd = childReads ? pipe.fileHandleForReading : pipe.fileHandleForWriting
                posix_spawn_file_actions_adddup2(&actions, childEnd.fileDescriptor, target)
                parentEndsToClose.append(childEnd)
            case let handle as FileHandle where handle === FileHandle.nullDevice:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", childReads ? O_RDONLY : O_WRONLY, 0)
            case let handle as FileHandle:
                posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, target)
            default:
                break
            }
        }
        try ThrowawayPostgres.closeInheritedDescriptors(&actions)
        // The child starts with no signal blocked and every signal at its default (as Foundation's
        // Process does): tests run on dispatch threads, which block most signals, SIGTERM included,
        // and exec keeps a blocked mask.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        sigdelset(&allSignals, SIGKILL)
        sigdelset(&allSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } }
        defer { envp?.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned: Int32
        if let envp {
            spawned = posix_spawn(&pid, executable, &actions, &attributes, argv + [nil], envp + [nil])
        } else {
            spawned = posix_spawn(&pid, executable, &actions, &attributes, argv + [nil], environ)
        }
        guard spawned == 0 else {
            throw SpawnFailure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        processIdentifier = pid
        // The child has its own copies; the parent's ends would keep a reader from ever seeing end-of-file.
        for handle in parentEndsToClose { try? handle.close() }
    }

    /// Whether the child still runs (reaps it when it has ended); false before ``run()``.
    public var isRunning: Bool { processIdentifier > 0 && status() == nil }

    /// Blocks until the child has ended (returns at once when it never started).
    public func waitUntilExit() {
        while isRunning { usleep(10_000) }
    }

    /// The exit code, or the signal that ended the child.
    public var terminationStatus: Int32 {
        guard let status = status() else { return 0 }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    }

    public var terminationReason: TerminationReason {
        guard let status = status() else { return .exit }
        return status & 0x7f == 0 ? .exit : .uncaughtSignal
    }

    /// Sends SIGTERM unless the child was reaped (under the lock, so never to a reused pid).
    public func terminate() {
        reaped.withLock { reaped in
            if reaped == nil, processIdentifier > 0 { kill(processIdentifier, SIGTERM) }
        }
    }

    /// The raw wait status once the child has ended (reaping it), nil while it runs or before ``run()``.
    private func status() -> Int32? {
        reaped.withLock { reaped in
            if let reaped { return reaped }
            guard processIdentifier > 0 else { return nil }
            var status: Int32 = 0
            let result = waitpid(processIdentifier, &status, WNOHANG)
            if result == processIdentifier {
                reaped = status
            } else if result < 0, errno == ECHILD {
                reaped = 0  // reaped elsewhere: nothing more to learn
            }
            return reaped
        }
    }
}

/// A child process that could not be started.
public struct SpawnFailure: Error, CustomStringConvertible {
    public var description: String
}
