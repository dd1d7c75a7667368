// swift-tools-version: 6.2
import PackageDescription

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
        .target(name: "LoopbackHTTP"),
        .target(
            name: "WorkOS",
            dependencies: [
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "WorkOSSimulator", dependencies: ["LoopbackHTTP"]),
        .target(name: "Reconciler", dependencies: ["WorkOS"]),
        .target(
            name: "Store",
            dependencies: [
                "CLibPQ", "Reconciler", "WorkOS",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Daemon",
            dependencies: [
                "WorkOS", "Reconciler", "Store", "LoopbackHTTP", "WorkOSSimulator", "CMalloc",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "workos-dsync",
            dependencies: [
                "WorkOS", "WorkOSSimulator", "Reconciler", "Store", "Daemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "dsync-bench",
            dependencies: [
                "Store", "WorkOS", "WorkOSSimulator", "Reconciler", "Daemon", "CCurl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/dsync-bench"
        ),
        .testTarget(
            name: "WorkOSTests",
            dependencies: [
                "WorkOS", "WorkOSSimulator", "LoopbackHTTP",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "WorkOSSimulatorTests", dependencies: ["WorkOSSimulator", "LoopbackHTTP"]),
        .testTarget(
            name: "ReconcilerTests",
            dependencies: [
                "Reconciler", "WorkOS",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Reconciler", "WorkOS"]),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Daemon", "Reconciler", "WorkOS", "Store", "WorkOSSimulator", "LoopbackHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Daemon", "Store", "WorkOS", "WorkOSSimulator", "Reconciler"]
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
