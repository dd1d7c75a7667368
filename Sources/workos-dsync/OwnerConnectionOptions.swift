import ArgumentParser
import Foundation

/// Where `migrate` and `purge` find the schema owner's connection string: in an
/// environment variable named on the command line, never on the command line
/// itself (every local user can read a process's arguments).
struct OwnerConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url-env"),
        help: ArgumentHelp(
            "Read the connection string (libpq string or URI) from the environment variable NAME, "
                + "e.g. DATABASE_OWNER_URL (default: database.url / DATABASE_URL).",
            valueName: "NAME"))
    var variable: String?

    /// The former `--database-url`: refused, without echoing its value.
    @Option(name: .customLong("database-url"), help: .hidden)
    var onCommandLine: String?

    /// The connection string: the value of `--database-url-env`'s variable, else
    /// `fallback`. Exits 6 when that variable is unset or `--database-url` is used.
    func conninfo(fallback: String?) throws -> String? {
        if onCommandLine != nil {
            printError(
                "configuration error: --database-url is no longer accepted (a password on the command line is visible "
                    + "to every local user); put the connection string in an environment variable and pass its name "
                    + "with --database-url-env NAME")
            throw ExitStatus.configuration.exitCode
        }
        guard let variable else { return fallback }
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
            printError("configuration error: \(variable) (named by --database-url-env) is not set")
            throw ExitStatus.configuration.exitCode
        }
        return value
    }
}
