// swift-tools-version: 6.2
import PackageDescription

/// Everything a run touches, with the simulator and a throwaway PostgreSQL: what the test
/// harnesses (and the tests that measure whole runs) build on.
let runModules: [Target.Dependency] = [
    "Daemon", "SyncCore", "Store", "PostgresTestSupport", "Reconciler", "WorkOSModel", "WorkOS", "WorkOSSimulator",
    "LoopbackHTTP",
]

/// The commit the binary reports (`--version`, `workos_dsync_build_info`): `WORKOS_DSYNC_COMMIT`
/// from the build's environment (scripts/test and scripts/package set it from `git rev-parse
/// --short HEAD`), "unknown" without it or when it is not a hex commit id. An environment
/// variable rather than a generated file: a fresh clone builds with plain `swift build`, and
/// no tracked file changes.
let buildCommit: String = {
    let value = Context.environment["WORKOS_DSYNC_COMMIT"] ?? ""
    let isHex = !value.isEmpty && value.count <= 40 && value.allSatisfy { $0.isHexDigit }
    return isHex ? value.lowercased() : "unknown"
}()

let package = Package(
    name: "workos-dsync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "workos-dsync", targets: ["workos-dsync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // glibc's <malloc.h>: malloc_trim, to give a finished directory's pages back.
        .systemLibrary(name: "CMalloc"),
        // The build's commit, as a C string define (Swift's -D takes no value).
        .target(name: "CBuildInfo", cSettings: [.define("WORKOS_DSYNC_COMMIT", to: "\"\(buildCommit)\"")]),
        .target(name: "LoopbackHTTP"),
        // Value types only: no I/O, no package dependency.
        .target(name: "WorkOSModel"),
        .target(
            name: "WorkOS",
            dependencies: [
                "WorkOSModel", "CCurl", "CBuildInfo",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "WorkOSSimulator", dependencies: ["LoopbackHTTP"]),
        .target(name: "Reconciler", dependencies: ["WorkOSModel"]),
        .target(
            name: "Store",
            dependencies: [
                "CLibPQ", "Reconciler", "WorkOSModel",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A PostgreSQL of its own for tests, the bench and the demo: never in production code paths.
        .target(
            name: "PostgresTestSupport",
            dependencies: ["Store", .product(name: "Logging", package: "swift-log")]
        ),
        // What every command shares: settings, wiring, the sync engine, run reports.
        .target(
            name: "SyncCore",
            dependencies: [
                "WorkOSModel", "WorkOS", "Reconciler", "Store", "LoopbackHTTP", "CMalloc",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "Daemon",
            dependencies: [
                "SyncCore", "WorkOSModel", "WorkOS", "Reconciler", "Store", "LoopbackHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Demo",
            dependencies: [
                "SyncCore", "WorkOSModel", "WorkOS", "Reconciler", "Store", "WorkOSSimulator", "PostgresTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "workos-dsync",
            dependencies: [
                "WorkOSModel", "WorkOS", "WorkOSSimulator", "Reconciler", "Store", "SyncCore", "Daemon", "Demo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "dsync-bench",
            dependencies: [
                "Store", "WorkOSModel", "WorkOS", "WorkOSSimulator", "Reconciler", "SyncCore", "Daemon", "CCurl",
                "PostgresTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/dsync-bench"
        ),
        // What test targets share (harnesses, a raw HTTP client, `eventually`); used by test targets only.
        .target(
            name: "TestHelpers",
            dependencies: runModules + [.product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "WorkOSTests",
            dependencies: [
                "WorkOSModel", "WorkOS", "WorkOSSimulator", "LoopbackHTTP", "TestHelpers",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "WorkOSSimulatorTests", dependencies: ["WorkOSSimulator", "LoopbackHTTP", "TestHelpers"]),
        .testTarget(
            name: "ReconcilerTests",
            dependencies: [
                "Reconciler", "WorkOSModel",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "PostgresTestSupport", "Reconciler", "WorkOSModel", "WorkOS", "TestHelpers"]
        ),
        .testTarget(name: "SyncCoreTests", dependencies: ["SyncCore", "Reconciler", "WorkOSModel", "WorkOS"]),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Daemon", "SyncCore", "Reconciler", "WorkOSModel", "WorkOS", "Store", "PostgresTestSupport",
                "WorkOSSimulator", "LoopbackHTTP", "TestHelpers",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "Daemon", "SyncCore", "Demo", "Store", "PostgresTestSupport", "WorkOSModel", "WorkOS", "WorkOSSimulator",
                "Reconciler", "TestHelpers",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Every test that measures time (rates, deadlines, kills, take-overs): scripts/test runs
        // this target first, one test at a time, on an otherwise idle machine.
        .testTarget(
            name: "TimingTests",
            dependencies: runModules + ["TestHelpers", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)

// The same strict settings for every target, as swift-log and swift-metrics do.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
