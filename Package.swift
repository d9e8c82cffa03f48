// swift-tools-version:6.1
import PackageDescription

// Module map (import rules are documented and enforced in ARCHITECTURE.md and Tests/ReckonCoreTests/PurityTests):
//   ReckonCore      pure domain: events, job runs, months, usage split, units, projections, store protocols
//   CLMDB           system library: Debian's liblmdb (pkg-config lmdb)
//   ReckonLMDB      the LMDB event store                      -> ReckonCore, CLMDB
//   CMalloc         system header: glibc's mallopt, for the one-shot commands' memory tuning
//   ReckonSacct     sacct output parser and sacct runner        -> ReckonCore
//   ReckonConfig    waldur-site-agent YAML + reckon: section    -> ReckonCore, Yams
//   ReckonWaldur    Waldur Mastermind HTTP client               -> AsyncHTTPClient, Logging
//   WaldurSimulator a faithful Waldur test double (Hummingbird) -> Hummingbird, Yams
//   ReckonEngine    application services (ingest, usage, replay, reconcile) wiring adapters to the core
//   reckon          the command-line executable
//   reckon-bench    synthetic sacct generator and benchmark workloads (tools/gen-sacct, tools/bench)
let package = Package(
    name: "reckon",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "reckon", targets: ["reckon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        .target(name: "ReckonCore"),
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"]), .brew(["lmdb"])]
        ),
        .target(name: "ReckonLMDB", dependencies: ["ReckonCore", "CLMDB"]),
        .systemLibrary(name: "CMalloc"),
        .target(name: "ReckonSacct", dependencies: ["ReckonCore"]),
        .target(name: "ReckonConfig", dependencies: [
            "ReckonCore",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "ReckonWaldur", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .target(name: "WaldurSimulator", dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        .target(name: "ReckonEngine", dependencies: [
            "ReckonCore", "ReckonLMDB", "ReckonSacct", "ReckonConfig", "ReckonWaldur",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .executableTarget(name: "reckon-bench", dependencies: [
            "ReckonEngine", "ReckonCore", "ReckonLMDB", "ReckonSacct", "ReckonConfig",
        ]),
        .executableTarget(name: "reckon", dependencies: [
            "ReckonEngine", "ReckonConfig", "ReckonCore", "ReckonSacct", "ReckonWaldur", "WaldurSimulator", "CMalloc",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ], linkerSettings: [
            // The Swift toolchain links executables with --export-dynamic, putting every global
            // symbol of the program and its packages (~37,000) into the dynamic symbol table;
            // the runtime's start-up `dladdr` then scans them all, ~1.5 ms of every command.
            // Nothing loads symbols from this executable, so they stay local.
            .unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux])),
        ]),

        .testTarget(name: "ReckonCoreTests", dependencies: [
            "ReckonCore",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "EventStoreContractTests", dependencies: ["ReckonCore", "ReckonLMDB"]),
        .testTarget(name: "ReckonSacctTests", dependencies: ["ReckonSacct", "ReckonCore"]),
        .testTarget(name: "ReckonConfigTests", dependencies: ["ReckonConfig", "ReckonCore"]),
        .testTarget(name: "ReckonEngineTests", dependencies: ["ReckonEngine", "ReckonCore", "ReckonLMDB", "ReckonSacct", "ReckonConfig", "ReckonWaldur", "WaldurSimulator"]),
        .testTarget(name: "AuditRenderTests", dependencies: ["ReckonEngine", "ReckonCore", "ReckonConfig"]),
        .testTarget(name: "ReckonCLITests", dependencies: [
            // "reckon" makes `swift build --build-tests` / `swift test` build the executable these tests run.
            "reckon", "ReckonCore", "ReckonLMDB", "WaldurSimulator",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ReliabilityTests", dependencies: [
            "ReckonCore", "ReckonSacct", "ReckonConfig", "ReckonLMDB", "ReckonEngine",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "ReckonWaldurTests", dependencies: [
            "ReckonWaldur", "WaldurSimulator",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Runs the built reckon binary against a live Slurm cluster (tools/slurm-sandbox); skipped
        // with a printed reason when none is up. No reckon module: the expected values are computed
        // independently from real sacct output (docs/slurm-integration.md).
        .testTarget(name: "SlurmIntegrationTests"),
        .testTarget(name: "WaldurSimulatorTests", dependencies: [
            "WaldurSimulator",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
    ]
)
