import CCurl
import Foundation
import Glibc
import Synchronization

/// HTTP over libcurl, for firewalled hosts: `https_proxy`/`no_proxy` and the
/// system CA bundle work as they do for `curl`.
///
/// Blocking `curl_easy_perform` never runs on Swift's cooperative pool: a
/// small pool of dedicated threads each owns one easy handle, reused across
/// requests so connections stay alive, and callers wait on a continuation.
/// TLS peer and host verification stay on. Cancelling the calling task aborts
/// the transfer.
public final class CurlTransport: HTTPTransport {
    /// Transport settings.
    public struct Configuration: Sendable {
        /// A PEM CA bundle instead of the system one (`CURLOPT_CAINFO`). Default nil.
        public var caFile: String?
        /// Time-out for the TCP and TLS handshake. Default 10 s.
        public var connectTimeout: Duration
        /// Time-out for a whole request, body included. Default 60 s.
        public var requestTimeout: Duration
        /// The largest body accepted; more is ``HTTPTransportError/Kind/bodyTooLarge``. Default 64 MiB.
        public var maxBodyBytes: Int
        /// Dedicated threads, each with its own connection. Default 4.
        public var threads: Int
        /// Default `workos-dsync/<version>`.
        public var userAgent: String

        public init(
            caFile: String? = nil, connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(60),
            maxBodyBytes: Int = 64 << 20, threads: Int = 4,
            userAgent: String = "workos-dsync/\(BuildInfo.version)"
        ) {
            self.caFile = caFile
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.maxBodyBytes = maxBodyBytes
            self.threads = max(1, threads)
            self.userAgent = userAgent
        }
    }

    /// `curl_global_init`, once per process, before the first handle.
    static let globalInit: Bool = dsync_curl_global_init_all() == CURLE_OK

    public let configuration: Configuration
    private let pool: CurlThreadPool

    public init(configuration: Configuration = Configuration()) {
        _ = Self.globalInit
        self.configuration = configuration
        self.pool = CurlThreadPool(threads: configuration.threads)
    }

    deinit {
        pool.shutdown()
    }

    /// New connections opened so far (libcurl's `CURLINFO_NUM_CONNECTS`, summed);
    /// lower than the request count when connections are reused.
    public var connectionsOpened: Int { pool.connectionsOpened }

    /// Stops the threads after the queued requests; later sends fail.
    public func shutdown() {
        pool.shutdown()
    }

    public func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseData {
        try Task.checkCancellation()
        let cancel = CancelFlag()
        let configuration = configuration
        let pool = pool
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let job = CurlJob(request: request, configuration: configuration, cancel: cancel) { result in
                    continuation.resume(with: result)
                }
                pool.submit(job)
            }
        } onCancel: {
            cancel.set()
        }
    }
}

/// A cancellation request shared between the awaiting task and a worker thread.
final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// One queued request and how to answer it.
final class CurlJob: Sendable {
    let request: HTTPRequestSpec
    let configuration: CurlTransport.Configuration
    let cancel: CancelFlag
    let complete: @Sendable (Result<HTTPResponseData, any Error>) -> Void

    init(
        request: HTTPRequestSpec, configuration: CurlTransport.Configuration, cancel: CancelFlag,
        complete: @escaping @Sendable (Result<HTTPResponseData, any Error>) -> Void
    ) {
        self.request = request
        self.configuration = configuration
        self.cancel = cancel
        self.complete = complete
    }
}

/// Dedicated threads draining a job queue; each thread owns one ``CurlEasyHandle``.
final class CurlThreadPool: Sendable {
    private struct Queue {
        var jobs: [CurlJob] = []
        var head = 0
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private let connections = Atomic<Int>(0)
    private let available = DispatchSemaphore(value: 0)
    private let threads: Int

    init(threads: Int) {
        self.threads = threads
        for index in 0..<threads {
            let thread = Thread { [self] in self.work() }
            thread.name = "workos-curl-\(index)"
            thread.start()
        }
    }

    func submit(_ job: CurlJob) {
        let accepted = queue.withLock { queue -> Bool in
            guard !queue.stopped else { return false }
            queue.jobs.append(job)
            return true
        }
        if accepted {
            available.signal()
        } else {
            job.complete(.failure(HTTPTransportError(kind: .transport, message: "transport shut down")))
        }
    }

    func shutdown() {
        let first = queue.withLock { queue -> Bool in
            defer { queue.stopped = true }
            return !queue.stopped
        }
        guard first else { return }
        for _ in 0..<threads { available.signal() }
    }

    private func next() -> CurlJob? {
        queue.withLock { queue in
            guard queue.head < queue.jobs.count else { return nil }
            let job = queue.jobs[queue.head]
            queue.head += 1
            if queue.head > 64, queue.head * 2 > queue.jobs.count {
                queue.jobs.removeFirst(queue.head)
                queue.head = 0
            }
            return job
        }
    }

    private func work() {
        let handle = CurlEasyHandle()
        while true {
            available.wait()
            guard let job = next() else { return }  // only shutdown signals without a job
            if job.cancel.isSet {
                job.complete(.failure(CancellationError()))
                continue
            }
            let result = handle.perform(job)
            connections.add(handle.connectsOfLastTransfer, ordering: .relaxed)
            job.complete(result)
        }
    }

    var connectionsOpened: Int { connections.load(ordering: .relaxed) }
}

/// Per-transfer state the C callbacks reach through `Unmanaged`.
final class CurlTransferContext {
    var body = Data()
    var headers: [String: String] = [:]
    var bodyTooLarge = false
    let maxBodyBytes: Int
    let cancel: CancelFlag

    init(maxBodyBytes: Int, cancel: CancelFlag) {
        self.maxBodyBytes = maxBodyBytes
        self.cancel = cancel
    }
}

/// One libcurl easy handle, owned by one worker thread, reset between requests
/// (which keeps its live connections, DNS and TLS session caches).
final class CurlEasyHandle {
    private let handle: UnsafeMutableRawPointer?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// `CURLINFO_NUM_CONNECTS` of the last transfer.
    private(set) var connectsOfLastTransfer = 0

    init() {
        handle = curl_easy_init()
        let size = Int(dsync_curl_error_size())
        errorBuffer = .allocate(capacity: size)
        errorBuffer.initialize(repeating: 0, count: size)
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
        errorBuffer.deallocate()
    }

    func perform(_ job: CurlJob) -> Result<HTTPResponseData, any Error> {
        guard let handle else {
            return .failure(HTTPTransportError(kind: .transport, message: "curl_easy_init failed"))
        }
        let request = job.request
        let configuration = job.configuration
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        connectsOfLastTransfer = 0
        let context = CurlTransferContext(maxBodyBytes: configuration.maxBodyBytes, cancel: job.cancel)
        let opaque = Unmanaged.passRetained(context).toOpaque()
        defer { Unmanaged<CurlTransferContext>.fromOpaque(opaque).release() }

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        var headerLines = ["Expect:"]
        if let token = request.bearerToken {
            headerLines.append("Authorization: Bearer \(token.reveal())")
        }
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            headerLines.append("\(name): \(value)")
        }
        for line in headerLines {
            headerList = curl_slist_append(headerList, line)
        }

        var setupFailed: CURLcode = CURLE_OK
        func set(_ result: CURLcode) {
            if result != CURLE_OK, setupFailed == CURLE_OK { setupFailed = result }
        }
        set(dsync_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        set(dsync_curl_easy_setopt_string(handle, CURLOPT_URL, request.url.absoluteString))
        set(dsync_curl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(dsync_curl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        set(dsync_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(dsync_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        set(dsync_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        if let caFile = configuration.caFile {
            set(dsync_curl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile))
        }
        set(dsync_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(configuration.connectTimeout.wholeMilliseconds))))
        set(dsync_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(configuration.requestTimeout.wholeMilliseconds))))
        set(dsync_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        set(dsync_curl_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))
        set(dsync_curl_easy_setopt_string(handle, CURLOPT_USERAGENT, configuration.userAgent))
        set(dsync_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        set(dsync_curl_easy_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, curlWriteBody))
        set(dsync_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque))
        set(dsync_curl_easy_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader))
        set(dsync_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque))
        set(dsync_curl_easy_setopt_xferinfo_function(handle, curlProgress))
        set(dsync_curl_easy_setopt_pointer(handle, CURLOPT_XFERINFODATA, opaque))
        set(dsync_curl_easy_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
        switch request.method {
        case .get:
            set(dsync_curl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case .post:
            let body = request.body ?? Data()
            set(dsync_curl_easy_setopt_long(handle, CURLOPT_POST, 1))
            set(dsync_curl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies, so the bytes need not outlive this call.
                let pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress) ?? UnsafeMutableRawPointer(errorBuffer)
                set(dsync_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, pointer))
            }
        }
        if setupFailed != CURLE_OK {
            return .failure(HTTPTransportError(
                kind: .transport, code: Int(setupFailed.rawValue), message: describe(setupFailed)))
        }

        let result = curl_easy_perform(handle)
        var connects = 0
        _ = dsync_curl_easy_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        connectsOfLastTransfer = connects
        if result != CURLE_OK {
            if context.cancel.isSet { return .failure(CancellationError()) }
            if context.bodyTooLarge {
                return .failure(HTTPTransportError(
                    kind: .bodyTooLarge, code: Int(result.rawValue),
                    message: "body exceeds \(configuration.maxBodyBytes) bytes"))
            }
            let kind: HTTPTransportError.Kind
            switch result {
            case CURLE_OPERATION_TIMEDOUT: kind = .timeout
            case CURLE_PARTIAL_FILE: kind = .truncatedBody
            default: kind = .transport
            }
            return .failure(HTTPTransportError(kind: kind, code: Int(result.rawValue), message: describe(result)))
        }
        var status = 0
        _ = dsync_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponseData(status: status, headers: context.headers, body: context.body))
    }

    private func describe(_ code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty { return String(detail.prefix(200)) }
        return String(cString: curl_easy_strerror(code))
    }
}

/// `CURLOPT_WRITEFUNCTION`: appends body bytes, refusing more than the cap.
private let curlWriteBody: dsync_curl_write_callback = { data, size, count, opaque in
    guard let opaque else { return 0 }
    let context = Unmanaged<CurlTransferContext>.fromOpaque(opaque).takeUnretainedValue()
    let length = size * count
    if context.body.count + length > context.maxBodyBytes {
        context.bodyTooLarge = true
        return 0
    }
    if let data, length > 0 {
        context.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length)
    }
    return length
}

/// `CURLOPT_HEADERFUNCTION`: one header line per call; a new status line starts a new header block.
private let curlWriteHeader: dsync_curl_write_callback = { data, size, count, opaque in
    guard let opaque else { return 0 }
    let context = Unmanaged<CurlTransferContext>.fromOpaque(opaque).takeUnretainedValue()
    let length = size * count
    guard let data, length > 0 else { return length }
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        context.headers = [:]
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        if !name.isEmpty { context.headers[name] = value }
    }
    return length
}

/// `CURLOPT_XFERINFOFUNCTION`: a non-zero return aborts the transfer when the caller was cancelled.
private let curlProgress: dsync_curl_xferinfo_callback = { opaque, _, _, _, _ in
    guard let opaque else { return 0 }
    let context = Unmanaged<CurlTransferContext>.fromOpaque(opaque).takeUnretainedValue()
    return context.cancel.isSet ? 1 : 0
}
