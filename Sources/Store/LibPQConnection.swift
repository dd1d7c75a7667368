import CLibPQ
import Foundation
import Glibc
import Logging

/// The `PGconn*` and every blocking libpq call on it. Not `Sendable`: only
/// its `ConnectionThread` ever touches it.
final class LibPQConnection {
    private let conninfo: String?
    private let logger: Logger
    private var handle: OpaquePointer?
    /// Nesting depth of `withTransaction` (0 outside a transaction).
    var transactionDepth = 0
    /// Set when the server announced the end of the session (an unsolicited
    /// FATAL, e.g. from pg_terminate_backend): the connection is doomed even
    /// if libpq has not seen the socket close yet.
    private var serverEndedSession = false
    /// Incremented on every successful (re)connect.
    private(set) var sessionNumber = 0

    init(conninfo: String?, logger: Logger) {
        self.conninfo = conninfo
        self.logger = logger
    }

    deinit { close() }

    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    // MARK: connection

    /// Connects when there is no usable connection, notices a connection that
    /// the server closed while idle, and reconnects — but never inside a
    /// transaction, where a lost connection fails with `connectionLost`.
    func ensureConnected() throws {
        if let handle {
            // An idle session has nothing to read unless the server said goodbye
            // (e.g. FATAL from pg_terminate_backend, then EOF): read it without
            // blocking, so libpq notices the closed connection before we send.
            var probes = 0
            while probes < 4, PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) == PQTRANS_IDLE,
                socketIsReadable(PQsocket(handle))
            {
                _ = PQconsumeInput(handle)
                _ = PQisBusy(handle)  // parses what arrived: an unsolicited FATAL reaches the notice processor
                probes += 1
            }
            if PQstatus(handle) == CONNECTION_OK, !serverEndedSession { return }
            if transactionDepth > 0 {
                throw PostgresError(code: .connectionLost, message: "the connection was lost inside a transaction")
            }
            logger.warning(
                "PostgreSQL connection lost; reconnecting (session advisory locks of the old session are released)",
                metadata: ["postgres.target": "\(ConnectionString.describe(conninfo))"])
            close()
        } else if transactionDepth > 0 {
            throw PostgresError(code: .connectionLost, message: "the connection was lost inside a transaction")
        }
        try connect()
    }

    private func socketIsReadable(_ socket: Int32) -> Bool {
        guard socket >= 0 else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    private func connect() throws {
        // TCP keepalives first, so the connection string may override them: a server that vanished
        // (host down, network cut) is noticed in about 25 s instead of the kernel's two hours.
        let keywords = ["keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "dbname", "fallback_application_name", "client_encoding"]
        let values: [String?] = ["1", "10", "5", "3", conninfo, "workos-dsync", "UTF8"]
        let cKeywords = keywords.map { strdup($0) }
        let cValues = values.map { $0.map { strdup($0) } ?? nil }
        defer {
            cKeywords.forEach { free($0) }
            cValues.forEach { free($0) }
        }
        let keywordPointers: [UnsafePointer<CChar>?] = cKeywords.map { UnsafePointer($0) } + [nil]
        let valuePointers: [UnsafePointer<CChar>?] = cValues.map { $0.map { UnsafePointer($0) } } + [nil]
        let connection = PQconnectdbParams(keywordPointers, valuePointers, 1)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            throw PostgresError(
                code: .connectionFailed,
                message: "cannot connect to PostgreSQL at \(ConnectionString.describe(conninfo)): "
                    + ConnectionString.redact(message.trimmingCharacters(in: .whitespacesAndNewlines), conninfo: conninfo))
        }
        PQsetNoticeProcessor(
            connection,
            { context, message in
                guard let context, let message else { return }
                let owner = Unmanaged<LibPQConnection>.fromOpaque(context).takeUnretainedValue()
                let text = String(cString: message)
                if text.hasPrefix("FATAL") || text.hasPrefix("PANIC") { owner.serverEndedSession = true }
                owner.logger.debug("PostgreSQL notice: \(String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines))")
            }, Unmanaged.passUnretained(self).toOpaque())
        handle = connection
        serverEndedSession = false
        // The text formats the decoders expect, whatever the server's defaults, and
        // backslashes in string literals taken literally (as the SQL standard says).
        // Where the server and role leave them unset, the server probes this session
        // too (so a replica whose host died gives up its leases and locks in about
        // 25 s, not hours) and ends a transaction left idle for 10 minutes (a
        // client stuck mid-transaction must not hold a directory's write lock).
        let setup = PQexec(
            connection,
            """
            SET standard_conforming_strings = on; SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, MDY'; SET bytea_output = 'hex'; \
            SET IntervalStyle = 'postgres'; \
            SELECT set_config(name, value, false) FROM pg_settings JOIN (VALUES ('tcp_keepalives_idle', '10'), \
            ('tcp_keepalives_interval', '5'), ('tcp_keepalives_count', '3'), ('idle_in_transaction_session_timeout', '10min')) \
            AS ours (name, value) USING (name) WHERE source = 'default'
            """)
        defer { PQclear(setup) }
        guard [PGRES_COMMAND_OK, PGRES_TUPLES_OK].contains(PQresultStatus(setup)) else {
            let error = makeError(setup)
            close()
            throw error
        }
        sessionNumber += 1
        logger.debug(
            "connected to PostgreSQL",
            metadata: ["postgres.target": "\(ConnectionString.describe(conninfo))", "postgres.pid": "\(PQbackendPID(connection))"])
    }

    var backendPID: Int32 {
        handle.map { PQbackendPID($0) } ?? 0
    }

    // MARK: statements

    struct Result {
        var rows: [PostgresRow]
        var affected: Int
        var commandTag: String
    }

    func run(_ query: PostgresQuery) throws -> Result {
        try ensureConnected()
        let handle = handle!
        let result: OpaquePointer?
        if query.isUnsafeSQL {
            result = PQexec(handle, query.sql)
        } else {
            for (index, bind) in query.binds.enumerated() where bind?.utf8.contains(0) == true {
                throw PostgresError(
                    code: .invalidText,
                    message: "parameter $\(index + 1) contains a NUL byte (U+0000), which PostgreSQL text cannot store; the value was refused, not truncated",
                    column: "$\(index + 1)")
            }
            let cValues = query.binds.map { $0.map { strdup($0) } ?? nil }
            defer { cValues.forEach { free($0) } }
            let pointers: [UnsafePointer<CChar>?] = cValues.map { $0.map { UnsafePointer($0) } }
            result = query.bindTypes.withUnsafeBufferPointer { types in
                pointers.withUnsafeBufferPointer { values in
                    PQexecParams(
                        handle, query.sql, Int32(query.binds.count), types.baseAddress, values.baseAddress, nil, nil, 0)
                }
            }
        }
        defer { PQclear(result) }
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Result(rows: rows(of: result!), affected: affectedRows(result!), commandTag: String(cString: PQcmdStatus(result!)))
        default:
            throw makeError(result)
        }
    }

    private func rows(of result: OpaquePointer) -> [PostgresRow] {
        let rowCount = Int(PQntuples(result))
        let fieldCount = Int(PQnfields(result))
        guard fieldCount > 0 else { return [] }
        let columns = PostgresRow.Columns(
            names: (0..<fieldCount).map { String(cString: PQfname(result, Int32($0))) },
            typeOIDs: (0..<fieldCount).map { PQftype(result, Int32($0)) })
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(fieldCount)
            for field in 0..<Int32(fieldCount) {
                if PQgetisnull(result, row, field) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, field))
                    let pointer = UnsafeRawPointer(PQgetvalue(result, row, field)!)
                    values.append(String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        return rows
    }

    private func affectedRows(_ result: OpaquePointer) -> Int {
        Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// A `PostgresError` from a failed result (or from the connection when there is none).
    func makeError(_ result: OpaquePointer?) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let result, let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let connectionBad = handle.map { PQstatus($0) == CONNECTION_BAD } ?? true
        let sqlState = field("C")
        var code = sqlState.map(PostgresError.code(forSQLState:)) ?? (connectionBad ? .connectionLost : .other)
        if connectionBad { code = .connectionLost }
        var message = field("M") ?? handle.map { String(cString: PQerrorMessage($0)) } ?? "no connection"
        message = ConnectionString.redact(message.trimmingCharacters(in: .whitespacesAndNewlines), conninfo: conninfo)
        if message.isEmpty { message = "unknown error" }
        return PostgresError(
            code: code, sqlState: sqlState, message: message, detail: field("D"), constraint: field("n"),
            table: field("t"), column: field("c"))
    }

    /// Notifications received so far on this session (after `LISTEN`).
    func notifications() throws -> [PostgresNotification] {
        try ensureConnected()
        guard let handle else { return [] }
        _ = PQconsumeInput(handle)
        var received: [PostgresNotification] = []
        while let notification = PQnotifies(handle) {
            received.append(
                PostgresNotification(
                    channel: String(cString: notification.pointee.relname),
                    payload: String(cString: notification.pointee.extra),
                    senderPID: notification.pointee.be_pid))
            PQfreemem(notification)
        }
        return received
    }

    // MARK: transactions

    func begin() throws {
        if transactionDepth == 0 {
            try ensureConnected()
            _ = try run(PostgresQuery(unsafeSQL: "BEGIN"))
        } else {
            _ = try run(PostgresQuery(unsafeSQL: "SAVEPOINT workos_dsync_\(transactionDepth)"))
        }
        transactionDepth += 1
    }

    func commit() throws {
        precondition(transactionDepth > 0)
        defer { transactionDepth -= 1 }
        if transactionDepth == 1 {
            if let handle, PQtransactionStatus(handle) == PQTRANS_INERROR {
                _ = try? run(PostgresQuery(unsafeSQL: "ROLLBACK"))
                throw PostgresError(
                    code: .misuse, sqlState: "25P02",
                    message: "the transaction was aborted by an earlier error that the transaction's body caught; it was rolled back, not committed")
            }
            _ = try run(PostgresQuery(unsafeSQL: "COMMIT"))
        } else {
            _ = try run(PostgresQuery(unsafeSQL: "RELEASE SAVEPOINT workos_dsync_\(transactionDepth - 1)"))
        }
    }

    func rollback() throws {
        precondition(transactionDepth > 0)
        defer { transactionDepth -= 1 }
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return }  // the server discards it anyway
        if transactionDepth == 1 {
            _ = try run(PostgresQuery(unsafeSQL: "ROLLBACK"))
        } else {
            _ = try run(PostgresQuery(unsafeSQL: "ROLLBACK TO SAVEPOINT workos_dsync_\(transactionDepth - 1)"))
        }
    }

    // MARK: COPY

    func copyBegin(_ sql: String) throws {
        try ensureConnected()
        let result = PQexec(handle!, sql)
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_COPY_IN else { throw makeError(result) }
    }

    func copyPut(_ bytes: [UInt8]) throws {
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                PQputCopyData(handle!, $0, Int32(buffer.count))
            }
        }
        guard status == 1 else { throw makeError(nil) }
    }

    /// Ends the COPY (aborting it with `abortMessage`) and returns the row count.
    func copyEnd(abortMessage: String?) throws -> Int {
        guard let handle else { throw makeError(nil) }
        let status = PQputCopyEnd(handle, abortMessage)
        var firstError: PostgresError? = status == 1 ? nil : makeError(nil)
        var count = 0
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK: count = affectedRows(result)
            default: if firstError == nil { firstError = makeError(result) }
            }
        }
        if let firstError { throw firstError }
        return count
    }
}
