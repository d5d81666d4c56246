/// Polls `condition` every `interval` until it holds or `timeout` has passed, and returns
/// whether it held. For things the service does in the background (flushes, sweeps, stream
/// consumers): the timeout is generous because a loaded CI machine can be many times slower
/// than a desk; how fast these things are is measured in `bench/`, not here.
func eventually(timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(50),
                _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: interval)
    }
}
