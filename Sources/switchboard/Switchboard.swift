import ArgumentParser
import ExperimentService

/// The `switchboard` command: serve the API, migrate the database, run the embedded stores.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Experimentation and bandit service.",
        version: ServiceInfo.version,
        subcommands: [Serve.self, Migrate.self, StoresCommand.self, PluginCommand.self, RebuildState.self, Apply.self, Diff.self, Get.self, Consume.self],
        defaultSubcommand: Serve.self
    )
}
