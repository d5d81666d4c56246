// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        .library(name: "ExperimentService", targets: ["ExperimentService"]),
        .library(name: "PluginHost", targets: ["PluginHost"]),
        // The built-in policies as a plugin: loaded by the host with dlopen like any other.
        .library(name: "SwitchboardPolicies", type: .dynamic, targets: ["PoliciesPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // System libraries: Debian's libpq (PostgreSQL client) and hiredis (Redis client).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),

        // The policy plugin C ABI (header only; the .c file pins the v1 layout at compile time).
        .target(name: "SwitchboardABI"),
        // Swift helpers both sides of the ABI share: the stable unit hash, the seeded RNG, the build tag.
        .target(name: "PluginSupport", dependencies: ["SwitchboardABI"], swiftSettings: swiftSettings),

        // Pure policy algorithms (no I/O, no C types).
        .target(name: "Policies", dependencies: ["PluginSupport"], swiftSettings: swiftSettings),
        // The C-ABI adapter that turns Policies into the SwitchboardPolicies plugin; exports one symbol.
        .target(
            name: "PoliciesPlugin",
            dependencies: ["Policies", "PluginSupport", "SwitchboardABI"],
            exclude: ["exports.map"],
            swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/PoliciesPlugin/exports.map"])]
        ),

        // The signal handler that notes which plugin library crashed the process (C: async-signal-safe).
        .target(name: "CCrashGuard"),

        // Loads policy plugins through the C ABI and checks them.
        .target(
            name: "PluginHost",
            dependencies: [
                "SwitchboardABI", "PluginSupport", "CCrashGuard",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The service: HTTP API (and its OpenAPI document), stores, embedded databases, migrations.
        .target(
            name: "ExperimentService",
            dependencies: [
                "CLibPQ", "CHiredis", "PluginHost", "PluginSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources/openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        // Every store in memory, with the real stores' rules: for tests that need no database.
        .target(
            name: "InMemoryStores",
            dependencies: ["ExperimentService", "PluginHost"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "ExperimentService", "PluginHost", "PluginSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "PoliciesTests", dependencies: ["Policies", "PluginSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ABITests", dependencies: ["PluginSupport", "SwitchboardABI"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PluginHostTests",
            dependencies: ["PluginHost", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // What the test targets share: the HTTP test client's helpers, the metrics and policies of the test process.
        .target(
            name: "TestSupport",
            dependencies: [
                "ExperimentService", "PluginHost",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        // The service above its stores, on the in-memory stores: no PostgreSQL, no Redis.
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "ExperimentService", "InMemoryStores", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ExperimentService", "InMemoryStores", "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
