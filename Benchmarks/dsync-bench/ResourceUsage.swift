import Foundation
import Glibc

/// CPU time (getrusage) and peak RSS (VmHWM) of this process.
struct ResourceUsage {
    var cpuSeconds: Double
    var peakRSSBytes: Int

    static func now() -> ResourceUsage {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return ResourceUsage(cpuSeconds: cpu, peakRSSBytes: peakRSS(fallbackKiB: Int(usage.ru_maxrss)))
    }

    /// `VmHWM` from /proc/self/status, else `ru_maxrss`.
    static func peakRSS(fallbackKiB: Int) -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                let digits = line.split(separator: " ").compactMap { Int($0) }
                if let kib = digits.first { return kib * 1024 }
            }
        }
        return fallbackKiB * 1024
    }
}

/// Wall time of a closure, with a monotonic clock.
struct Stopwatch {
    private let start = ContinuousClock.now
    var seconds: Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
