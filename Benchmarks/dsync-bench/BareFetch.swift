import CCurl
import Foundation
import Glibc
import Synchronization

/// Floor (a): every page a snapshot needs, fetched with a bare libcurl loop
/// at the snapshot's concurrency, without decoding.
///
/// Only two byte scans stand in for decoding: the `list_metadata.after`
/// cursor of each page and the `"id"` values of the group listing (the
/// member listings need the group ids). Worker threads each own one easy
/// handle (keep-alive, like ``CurlTransport``).
struct BareFetch {
    var baseURL: String
    var apiKey: String
    var directoryID: String
    var concurrency: Int
    var pageSize = 100

    /// Returns the number of requests made.
    func run() throws -> Int {
        let queue = JobQueue()
        queue.push(.directories)
        queue.push(.users)
        queue.push(.groups)
        let failures = Mutex<[String]>([])
        let finished = DispatchGroup()
        for _ in 0..<max(1, concurrency) {
            finished.enter()
            Thread.detachNewThread { [self] in
                let handle = EasyHandle(apiKey: apiKey)
                while let job = queue.pop() {
                    do {
                        try handle.list(job, fetcher: self, queue: queue)
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                    queue.done()
                }
                finished.leave()
            }
        }
        finished.wait()
        if let failure = failures.withLock({ $0.first }) { throw BenchFailure("bare fetch: \(failure)") }
        return queue.requests.load(ordering: .relaxed)
    }

    func url(_ job: Job, after: String?) -> String {
        var text = baseURL
        switch job {
        case .directories: return text + "/directories?limit=\(pageSize)&order=asc"
        case .users: text += "/directory_users?directory=\(directoryID)"
        case .groups: text += "/directory_groups?directory=\(directoryID)"
        case .members(let group): text += "/directory_users?group=\(group)"
        }
        text += "&limit=\(pageSize)&order=asc"
        if let after { text += "&after=\(after)" }
        return text
    }
}

/// One listing (all its pages) to fetch.
enum Job: Sendable {
    case directories, users, groups
    case members(String)
}

/// Listings waiting for a worker; the run ends when none wait and none run.
final class JobQueue: Sendable {
    private let state = Mutex<(jobs: [Job], running: Int)>(([], 0))
    private let condition = NSCondition()
    let requests = Atomic<Int>(0)

    func push(_ job: Job) {
        condition.lock()
        state.withLock { $0.jobs.append(job) }
        condition.broadcast()
        condition.unlock()
    }

    func pop() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let next = state.withLock { state -> (Job?, Bool) in
                if !state.jobs.isEmpty {
                    state.running += 1
                    return (state.jobs.removeFirst(), false)
                }
                return (nil, state.running == 0)
            }
            if let job = next.0 { return job }
            if next.1 { return nil }
            condition.wait()
        }
    }

    func done() {
        condition.lock()
        state.withLock { $0.running -= 1 }
        condition.broadcast()
        condition.unlock()
    }
}

/// One libcurl easy handle and its response buffer.
final class EasyHandle {
    private let handle: UnsafeMutableRawPointer
    private var headers: UnsafeMutablePointer<curl_slist>?
    let buffer = ResponseBuffer()

    init(apiKey: String) {
        _ = BenchCurl.initialized
        handle = curl_easy_init()
        headers = curl_slist_append(nil, "Authorization: Bearer \(apiKey)")
        headers = curl_slist_append(headers, "Accept: application/json")
        _ = dsync_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = dsync_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        _ = dsync_curl_easy_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let buffer = Unmanaged<ResponseBuffer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            data!.withMemoryRebound(to: UInt8.self, capacity: length) {
                buffer.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        _ = dsync_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(buffer).toOpaque())
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headers)
    }

    /// Fetches every page of `job`; the group listing queues one member listing per group.
    func list(_ job: Job, fetcher: BareFetch, queue: JobQueue) throws {
        var after: String?
        repeat {
            buffer.bytes.removeAll(keepingCapacity: true)
            _ = dsync_curl_easy_setopt_string(handle, CURLOPT_URL, fetcher.url(job, after: after))
            let code = curl_easy_perform(handle)
            queue.requests.add(1, ordering: .relaxed)
            var status = 0
            _ = dsync_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            guard code == CURLE_OK, status == 200 else {
                throw BenchFailure("\(fetcher.url(job, after: after)): curl \(code.rawValue), HTTP \(status)")
            }
            if case .groups = job {
                // `raw_attributes` carries the IdP's own `id`: keep WorkOS group ids only.
                for id in ByteScan.values(of: "id", in: buffer.bytes) where id.hasPrefix("directory_group_") {
                    queue.push(.members(id))
                }
            }
            if case .directories = job { return }
            after = ByteScan.lastValue(of: "after", in: buffer.bytes)
        } while after != nil
    }
}

final class ResponseBuffer {
    var bytes: [UInt8] = []
}

enum BenchCurl {
    static let initialized: Bool = dsync_curl_global_init_all() == CURLE_OK
}

/// Minimal scans of compact JSON bytes: string values of a key, without decoding the document.
enum ByteScan {
    /// Every string value of `"key":"…"` in the body (simple ids only: no escapes).
    static func values(of key: String, in bytes: [UInt8]) -> [String] {
        let needle = Array("\"\(key)\":\"".utf8)
        var found: [String] = []
        var index = 0
        while let start = find(needle, in: bytes, from: index) {
            var end = start + needle.count
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
            found.append(String(decoding: bytes[(start + needle.count)..<end], as: UTF8.self))
            index = end
        }
        return found
    }

    /// The last `"key":` value if it is a string; nil for `null` or absent.
    static func lastValue(of key: String, in bytes: [UInt8]) -> String? {
        let needle = Array("\"\(key)\":".utf8)
        var index = bytes.count - needle.count
        while index >= 0 {
            if bytes[index] == needle[0], Array(bytes[index..<(index + needle.count)]) == needle {
                var start = index + needle.count
                while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
                guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
                var end = start + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
                return String(decoding: bytes[(start + 1)..<end], as: UTF8.self)
            }
            index -= 1
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var index = from
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
