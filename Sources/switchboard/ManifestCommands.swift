import ArgumentParser
import ExperimentService
import Foundation
import PluginSupport
import Yams

/// Where the service is, and the admin key: shared by `apply`, `diff` and `get`.
struct ServiceOptions: ParsableArguments {
    @Option(help: "The service's base URL (env SWITCHBOARD_URL; default http://127.0.0.1:8080).")
    var server: String?

    @Option(help: "An admin API key (env SWITCHBOARD_ADMIN_KEY); needed when the service has keys.")
    var key: String?

    var client: ServiceClient {
        let environment = ProcessInfo.processInfo.environment
        let base = server ?? environment["SWITCHBOARD_URL"] ?? "http://127.0.0.1:8080"
        return ServiceClient(base: base.hasSuffix("/") ? String(base.dropLast()) : base, key: key ?? environment["SWITCHBOARD_ADMIN_KEY"])
    }
}

/// `switchboard apply -f FILE|DIR`: makes the service hold what the files declare.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or change experiments, policies and backends from YAML or JSON files, like kubectl apply.",
        discussion: """
            Each document declares an Experiment (the body of POST /v1/experiments; the default \
            kind), a Policy library or a Backend. A missing experiment is created; an existing \
            one is changed through the same phases as PATCH (weights, arms added or retired, \
            the policy's config, metrics, analysis) and moved to the declared status. What \
            cannot change on an existing experiment is an error: nothing is recreated. Applying \
            the same files twice changes nothing the second time.
            """)

    @Option(name: [.customShort("f"), .customLong("filename")], help: "A file or folder of files; repeatable.")
    var files: [String]

    @Flag(help: "Print what would change; change nothing.")
    var dryRun = false

    @Flag(help: "Archive the experiments the service has that no file declares (their decisions stay).")
    var prune = false

    @OptionGroup var service: ServiceOptions

    func run() async throws {
        let changed = try await ManifestApplier(client: service.client, dryRun: dryRun).apply(try load(files), prune: prune)
        if changed == 0 { print("nothing to change") }
    }
}

/// `switchboard diff -f FILE|DIR`: what `apply` would change; exits 1 when anything would.
struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what apply would change, field by field; exit 1 if anything would.")

    @Option(name: [.customShort("f"), .customLong("filename")], help: "A file or folder of files; repeatable.")
    var files: [String]

    @OptionGroup var service: ServiceOptions

    func run() async throws {
        let changed = try await ManifestApplier(client: service.client, dryRun: true).apply(try load(files), prune: false)
        if changed > 0 { throw ExitCode(1) }
        print("no differences")
    }
}

/// `switchboard get [KEY] -o yaml|json`: experiments as files `apply` takes back.
struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print experiments as YAML or JSON documents that apply takes back unchanged.")

    @Argument(help: "An experiment key (default: every experiment, archived ones included).")
    var key: String?

    @Option(name: .customShort("o"), help: "yaml or json.")
    var output: String = "yaml"

    @OptionGroup var service: ServiceOptions

    func run() async throws {
        let client = service.client
        let views: [ExperimentView]
        if let key {
            guard let view = try await client.experiment(key) else { throw ServiceClient.Failure(description: "no experiment has the key '\(key)'") }
            views = [view]
        } else {
            views = try await client.experiments()
        }
        let specs = views.map(ManifestApplier.spec(of:))
        switch output {
        case "yaml":
            print(try specs.map { try YAMLEncoder().encode($0) }.joined(separator: "---\n"), terminator: "")
        case "json":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = key == nil ? try encoder.encode(specs) : try encoder.encode(specs[0])
            print(String(decoding: data, as: UTF8.self))
        default:
            throw ValidationError("-o must be yaml or json")
        }
    }
}

/// Reads the manifests, turning a bad file into a one-line error naming file, line and field.
func load(_ files: [String]) throws -> [Manifest] {
    do { return try ManifestLoader.load(files) } catch let error as ManifestError {
        throw ValidationError(error.description)
    }
}

/// Applies manifests through the admin routes, printing one line per object.
struct ManifestApplier {
    let client: ServiceClient
    let dryRun: Bool

    /// Returns how many objects changed (or would).
    func apply(_ manifests: [Manifest], prune: Bool) async throws -> Int {
        var changed = 0
        for manifest in manifests {
            do {
                changed += try await apply(manifest) ? 1 : 0
            } catch let error as ServiceError {
                throw ValidationError("\(manifest.source): \(manifest.name): \(error)")
            }
        }
        if prune {
            let declared = Set(manifests.compactMap { if case .experiment(let s, _) = $0 { s.key } else { nil } })
            for view in try await client.experiments() where !declared.contains(view.key) && view.status != "archived" {
                print("experiment \(view.key): archived (not in the files)\(dryRun ? " (dry run)" : "")")
                changed += 1
                guard !dryRun else { continue }
                if view.status != "stopped" { _ = try await client.send("POST", "/v1/experiments/\(view.key)/stop") }
                _ = try await client.send("POST", "/v1/experiments/\(view.key)/archive")
            }
        }
        return changed
    }

    func apply(_ manifest: Manifest) async throws -> Bool {
        let suffix = dryRun ? " (dry run)" : ""
        switch manifest {
        case .experiment(let spec, _):
            let plan = try ManifestPlan.plan(spec, current: try await client.experiment(spec.key))
            switch plan.action {
            case .unchanged:
                print("experiment \(spec.key): unchanged")
                return false
            case .create(let created, let retire, let then):
                print("experiment \(spec.key): created\(then.map { ", then \($0.rawValue)" } ?? "")\(suffix)")
                guard !dryRun else { return true }
                _ = try await client.send("POST", "/v1/experiments", body: try JSONEncoder().encode(created))
                if let retire { _ = try await client.send("PATCH", "/v1/experiments/\(spec.key)", body: try JSONEncoder().encode(retire)) }
                if let then { _ = try await client.send("POST", "/v1/experiments/\(spec.key)/\(then.rawValue)") }
            case .update(let change, let then):
                print("experiment \(spec.key): changed\(suffix)")
                for difference in plan.differences { print("  \(difference)") }
                guard !dryRun else { return true }
                if let change { _ = try await client.send("PATCH", "/v1/experiments/\(spec.key)", body: try JSONEncoder().encode(change)) }
                if let then { _ = try await client.send("POST", "/v1/experiments/\(spec.key)/\(then.rawValue)") }
            }
            return true
        case .policy(let library, _):
            return try await register("policy library \(library.path)", at: "/v1/policies", try JSONEncoder().encode(library))
        case .backend(let backend, _):
            if dryRun {
                // Whether a known one's library, model or config differ is decided by the service, when registering.
                let known = try await client.backendNames().contains(backend.name)
                print("backend \(backend.name): \(known ? "known; changed only if its library, model or config differ" : "registered") (dry run)")
                return !known
            }
            return try await register("backend \(backend.name)", at: "/v1/backends", try JSONEncoder().encode(backend))
        }
    }

    /// Registers a policy library or a backend (their routes are idempotent: 201 new or
    /// changed, 200 known).
    func register(_ name: String, at route: String, _ body: Data) async throws -> Bool {
        guard !dryRun else {
            print("\(name): registered if new (dry run)")
            return false
        }
        let (status, _) = try await client.send("POST", route, body: body)
        print("\(name): \(status == 201 ? "registered" : "unchanged")")
        return status == 201
    }

    /// An experiment as the file that declares it.
    static func spec(of view: ExperimentView) -> ExperimentSpec {
        var spec = ExperimentSpec(key: view.key, arms: view.arms.map { arm in
            var a = Experiment.Arm(name: arm.name, weight: arm.weight, backend: arm.backend, value: arm.value)
            a.retired = arm.retired ?? false
            return a
        }, control: view.control, salt: view.salt)
        spec.policy = view.policy
        spec.contextFeatures = view.contextFeatures.isEmpty ? nil : view.contextFeatures
        spec.stickyTTLSeconds = view.stickyTTLSeconds
        spec.rewardWindowSeconds = view.rewardWindowSeconds
        spec.defaultReward = view.defaultReward
        spec.status = Experiment.Status(rawValue: view.status)
        spec.metrics = view.metrics
        spec.analysis = view.analysis
        return spec
    }
}
