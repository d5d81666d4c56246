/// What the service says of itself (`switchboard --version`, the Open Inference Protocol's
/// server metadata).
public enum ServiceInfo {
    public static let name = "switchboard"
    public static let version = "0.17.0"
}
