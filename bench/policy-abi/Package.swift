// swift-tools-version:6.2
// Nanoseconds per choose and per update through the policy C ABI, for every built-in
// policy and the C example. A separate package so the service's build and CI do not pay
// for the harness. Run: bench/policy-abi/run (release build).
import Foundation
import PackageDescription

// A path dependency's identity is its folder name, which depends on where the checkout is.
let root = URL(fileURLWithPath: Context.packageDirectory + "/../..").standardizedFileURL.lastPathComponent.lowercased()

let package = Package(
    name: "policy-abi-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/google/swift-benchmark.git", from: "0.1.2"),
    ],
    targets: [
        .executableTarget(
            name: "PolicyABIBenchmarks",
            dependencies: [
                .product(name: "PluginHost", package: root),
                .product(name: "Benchmark", package: "swift-benchmark"),
            ]
        )
    ]
)
