import Foundation
import Logging
import PluginSupport
import Synchronization

/// A model served by a backend: what a client registers with `POST /v1/backends`.
public struct ModelRegistration: Sendable, Codable, Equatable {
    /// The name experiments' arms refer to: `[a-z0-9][a-z0-9_-]{0,62}`.
    public var name: String
    /// The backend library, inside a plugin folder.
    public var library: String
    /// The expected SHA-256 of the library (hex), if the client pins it.
    public var sha256: String?
    /// The backend's name in the library (needed only when it has several).
    public var backend: String?
    /// The model folder, inside a plugin folder.
    public var model: String
    /// The model's JSON config ("{}" if none).
    public var config: String

    public init(name: String, library: String, sha256: String? = nil, backend: String? = nil, model: String, config: String = "{}") {
        self.name = name
        self.library = library
        self.sha256 = sha256
        self.backend = backend
        self.model = model
        self.config = config
    }
}

extension ModelRegistration {
    /// Whether `other` loads the same thing (configs compared as JSON values: PostgreSQL's
    /// `jsonb` text differs from the text a client sent).
    public func loadsSame(as other: ModelRegistration) -> Bool {
        func json(_ text: String) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
        var x = self, y = other
        x.config = ""
        y.config = ""
        return x == y && json(config) == json(other.config)
    }
}

/// A registered, loaded model that predictions can be routed to.
public final class ModelEndpoint: Sendable {
    public let registration: ModelRegistration
    public let plugin: BackendPlugin
    public let model: LoadedModel
    /// SHA-256 of the library file.
    public var sha256: String { plugin.sha256 }

    init(registration: ModelRegistration, plugin: BackendPlugin, model: LoadedModel) {
        self.registration = registration
        self.plugin = plugin
        self.model = model
    }
}

/// Why a backend registration was refused (a client error: the message says what to fix).
public struct ModelRegistrationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The models of this process and the backend libraries serving them: libraries loaded only from the plugin folders (and
/// never unloaded), models loaded from folders inside them, by registration name.
/// Deregistering stops routing to a model; its library stays loaded.
public final class ModelRegistry: Sendable {
    public let folders: PluginFolders
    let loader: BackendLibraryLoader
    private let state = Mutex<(libraries: [String: [BackendPlugin]], endpoints: [String: ModelEndpoint])>(([:], [:]))

    /// Runs a library's conformance check with the model in a child process before it is
    /// loaded here (nil only where every library is trusted).
    public let checker: PluginChecker?

    public init(folders: PluginFolders, services: PluginHostServices, cacheFolder: String?, checker: PluginChecker? = nil) {
        self.folders = folders
        self.checker = checker
        self.loader = BackendLibraryLoader(services: services, cacheFolder: cacheFolder)
    }

    /// A new registration with its paths resolved and its library's digest pinned, after the
    /// library passed its conformance check with the model in a child process (with a
    /// ``checker``); then ``register(_:)`` loads exactly the checked bytes.
    public func checked(_ r: ModelRegistration) async throws(ModelRegistrationError) -> ModelRegistration {
        let libraryPath: String, modelFolder: String
        do {
            libraryPath = try folders.resolve(r.library)
            modelFolder = try folders.resolveFolder(r.model)
        } catch { throw ModelRegistrationError(message: error.description) }
        let sha256: String
        do { sha256 = try PolicyRegistry.digest(libraryPath, expected: r.sha256) } catch { throw ModelRegistrationError(message: error.description) }
        if let checker {
            do { try await checker.check(path: libraryPath, sha256: sha256, kind: .backend(model: modelFolder, config: r.config)) } catch {
                throw ModelRegistrationError(message: error.message)
            }
        }
        var pinned = r
        pinned.library = libraryPath
        pinned.model = modelFolder
        pinned.sha256 = sha256
        return pinned
    }

    /// Loads (or reuses) the library, starts its backend and loads the model; the new
    /// endpoint replaces any earlier one of the same name. Blocking (it reads files and
    /// runs the plugin's loader).
    @discardableResult
    public func register(_ r: ModelRegistration) throws(ModelRegistrationError) -> ModelEndpoint {
        func refuse(_ message: String) -> ModelRegistrationError { ModelRegistrationError(message: message) }
        guard PluginNames.isValidPolicyName(r.name) else { throw refuse("field 'name' must match [a-z0-9][a-z0-9_-]{0,62}; got '\(r.name)'") }
        let libraryPath: String, modelFolder: String
        do {
            libraryPath = try folders.resolve(r.library)
            modelFolder = try folders.resolveFolder(r.model)
        } catch { throw refuse(error.description) }
        let plugins: [BackendPlugin]
        do { plugins = try loadLibrary(libraryPath, expectedSHA256: r.sha256) } catch { throw refuse(error.description) }
        let plugin: BackendPlugin
        if let wanted = r.backend {
            guard let match = plugins.first(where: { $0.name == wanted || $0.id == wanted }) else {
                throw refuse("backend library '\(r.library)' has no backend '\(wanted)'; it has \(plugins.map(\.id).joined(separator: ", "))")
            }
            plugin = match
        } else {
            guard plugins.count == 1 else {
                throw refuse("backend library '\(r.library)' has several backends (\(plugins.map(\.id).joined(separator: ", "))); name one in 'backend'")
            }
            plugin = plugins[0]
        }
        let model: LoadedModel
        do { model = try plugin.start().loadModel(folder: modelFolder, config: r.config) } catch {
            throw refuse("backend \(plugin.id) refused model '\(r.model)': \(error.message)")
        }
        // Remembered resolved and pinned, so a reload (another replica, a restart) loads the same file.
        let resolved = ModelRegistration(name: r.name, library: libraryPath, sha256: plugin.sha256, backend: plugin.id,
                                           model: modelFolder, config: r.config)
        let endpoint = ModelEndpoint(registration: resolved, plugin: plugin, model: model)
        state.withLock { $0.endpoints[r.name] = endpoint }
        return endpoint
    }

    private func loadLibrary(_ path: String, expectedSHA256: String?) throws(BackendLoadError) -> [BackendPlugin] {
        let loaded = try loader.load(path: path, expectedSHA256: expectedSHA256)
        return state.withLock { state in
            // The same file content loaded before: keep the first tables (the copy is the same code).
            if let existing = state.libraries[loaded[0].sha256] { return existing }
            state.libraries[loaded[0].sha256] = loaded
            return loaded
        }
    }

    /// The endpoint registered as `name`, if any.
    public func endpoint(_ name: String) -> ModelEndpoint? {
        state.withLock { $0.endpoints[name] }
    }

    /// Stops routing to `name`; returns whether it was registered.
    @discardableResult
    public func remove(_ name: String) -> Bool {
        state.withLock { $0.endpoints.removeValue(forKey: name) != nil }
    }

    /// Every endpoint, by name.
    public var endpoints: [ModelEndpoint] {
        state.withLock { $0.endpoints.values.sorted { $0.registration.name < $1.registration.name } }
    }
}
