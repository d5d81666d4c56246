import PluginSupport

/// A model to register (the body of `POST /v1/backends`, or a `Backend` document of an
/// experiments folder): a backend library and a model folder from the plugin folders.
public struct BackendRegistration: Codable, Sendable, Equatable {
    /// The name arms refer to in their `backend` field.
    public var name: String
    /// The backend library, inside a plugin folder.
    public var path: String
    /// The model folder, inside a plugin folder.
    public var model: String
    /// The model's config (a JSON object).
    public var config: JSONValue?
    /// Which backend of the library, when it has several.
    public var backend: String?
    /// The expected SHA-256 of the library (hex).
    public var sha256: String?
}

/// A policy library to register (the body of `POST /v1/policies`, or a `Policy` document
/// of an experiments folder).
public struct PolicyLibraryRegistration: Codable, Sendable, Equatable {
    /// A path inside a configured plugin folder.
    public var path: String
    /// The expected SHA-256 of the file (hex); the file is refused if it differs.
    public var sha256: String?
}
