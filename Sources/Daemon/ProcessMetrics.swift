import Foundation
import Glibc

/// The standard Prometheus process metrics, read from `/proc/self` at each scrape
/// and rendered in the text format after the registry's series:
///
/// - `process_cpu_seconds_total` (user + system CPU time)
/// - `process_resident_memory_bytes`, `process_virtual_memory_bytes`
/// - `process_open_fds`, `process_max_fds`
/// - `process_start_time_seconds` (Unix time)
///
/// Linux only: where `/proc/self/stat` cannot be read, nothing is rendered.
struct ProcessMetrics: Equatable {
    var cpuSeconds: Double
    var residentBytes: Double
    var virtualBytes: Double
    var openFDs: Double
    var maxFDs: Double
    var startTimeSeconds: Double

    /// Reads the current process's figures, or nil when `/proc` is not there.
    static func read() -> ProcessMetrics? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let bootLine = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let bootTime = Double(bootLine.dropFirst("btime ".count)),
            let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
        else { return nil }
        var limit = rlimit()
        let maxFDs = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : 0
        return parse(
            stat: stat, bootTime: bootTime, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: Double(sysconf(Int32(_SC_PAGESIZE))), openFDs: fds.count, maxFDs: maxFDs)
    }

    /// Parses `/proc/self/stat` (proc(5)): after the command name in parentheses, which may
    /// hold spaces, come field 3 (state) onwards; utime is 14, stime 15, starttime 22 (clock
    /// ticks since boot), vsize 23 (bytes), rss 24 (pages).
    static func parse(
        stat: String, bootTime: Double, ticksPerSecond: Double, pageSize: Double, openFDs: Int, maxFDs: Double
    ) -> ProcessMetrics? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        func field(_ number: Int) -> Double? {
            let index = number - 3
            return fields.indices.contains(index) ? Double(fields[index]) : nil
        }
        guard ticksPerSecond > 0, let utime = field(14), let stime = field(15), let start = field(22),
            let vsize = field(23), let rss = field(24)
        else { return nil }
        return ProcessMetrics(
            cpuSeconds: (utime + stime) / ticksPerSecond, residentBytes: rss * pageSize, virtualBytes: vsize,
            openFDs: Double(openFDs), maxFDs: maxFDs, startTimeSeconds: bootTime + start / ticksPerSecond)
    }

    /// The Prometheus text exposition of these figures, `# HELP` and `# TYPE` included.
    var exposition: String {
        let series: [(name: String, type: String, help: String, value: Double)] = [
            ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpuSeconds),
            ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", residentBytes),
            ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", virtualBytes),
            ("process_open_fds", "gauge", "Number of open file descriptors.", openFDs),
            ("process_max_fds", "gauge", "Maximum number of open file descriptors.", maxFDs),
            ("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", startTimeSeconds),
        ]
        return series.map { "# HELP \($0.name) \($0.help)\n# TYPE \($0.name) \($0.type)\n\($0.name) \($0.value)\n" }.joined()
    }
}
