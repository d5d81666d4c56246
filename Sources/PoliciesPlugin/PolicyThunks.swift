import Foundation
import Policies
import SwitchboardABI

/// The C functions of every built-in policy table. They only convert between C and Swift
/// types and turn a thrown `PolicyError` into a host-allocated error: nothing unwinds
/// across the boundary.
enum PolicyThunks {
    static func error(_ host: UnsafePointer<sb_host_api>?, _ error: PolicyError) -> OpaquePointer? {
        guard let host, let make = host.pointee.error_new else { return nil }
        return make(host.pointee.host_context, sb_error_code(rawValue: UInt32(error.code.rawValue)), error.message)
    }

    /// Runs `body` with the config's box, without retaining it: the host keeps the config
    /// alive for the whole call (it is destroyed only by config_destroy).
    @inline(__always)
    static func withBox<R>(_ config: OpaquePointer?, _ body: (PolicyBox) -> R) -> R {
        Unmanaged<PolicyBox>.fromOpaque(UnsafeRawPointer(config!))._withUnsafeGuaranteedRef(body)
    }

    /// Parses the setup and creates a config for `P` (called from a per-type closure).
    static func create<P: Policy>(_ type: P.Type, ensemble: Bool, _ host: UnsafePointer<sb_host_api>?,
                                  _ setup: UnsafePointer<sb_policy_setup>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> OpaquePointer? {
        guard let setup, let out else { return error(host, PolicyError(.invalidArgument, "config_create: NULL argument")) }
        let s = setup.pointee
        guard s.arm_count >= 1, s.arm_names != nil, s.arm_weights != nil else {
            return error(host, PolicyError(.invalidArgument, "config_create: an experiment needs at least one arm"))
        }
        let arms = Int(s.arm_count)
        let names = (0..<arms).map { String(cString: s.arm_names[$0]!) }
        let weights = (0..<arms).map { s.arm_weights[$0] }
        let json = s.config_json.map { String(cString: $0) } ?? ""
        do throws(PolicyError) {
            let config = try PolicyConfig(json: json)
            let policySetup = PolicySetup(armNames: names, armWeights: weights, contextDimension: Int(s.context_dim), config: config)
            let policy = try P(setup: policySetup)
            let box: PolicyBox
            if ensemble, let e = policy as? any EnsemblePolicy {
                box = makeEnsembleBox(e, setup: policySetup)
            } else {
                box = TypedPolicyBox(policy, setup: policySetup)
            }
            out.pointee = OpaquePointer(Unmanaged.passRetained(box).toOpaque())
            return nil
        } catch {
            return PolicyThunks.error(host, error)
        }
    }

    static func makeEnsembleBox<E: EnsemblePolicy>(_ policy: E, setup: PolicySetup) -> PolicyBox {
        EnsemblePolicyBox(policy, setup: setup)
    }

    static let destroy: @convention(c) (OpaquePointer?) -> Void = { config in
        guard let config else { return }
        Unmanaged<PolicyBox>.fromOpaque(UnsafeRawPointer(config)).release()
    }

    static let stateLength: @convention(c) (OpaquePointer?) -> UInt64 = { config in
        withBox(config) { UInt64($0.stateLength) }
    }

    static let stateInit: @convention(c) (UnsafePointer<sb_host_api>?, OpaquePointer?, UnsafeMutablePointer<Double>?, UInt64) -> OpaquePointer? = { host, config, state, length in withBox(config) { b in
        guard Int(length) == b.stateLength, b.stateLength == 0 || state != nil else {
            return error(host, PolicyError(.invalidArgument, "state_init: expected \(b.stateLength) doubles, got \(length)"))
        }
        b.initialize(UnsafeMutableBufferPointer(start: state, count: Int(length)))
        return nil
    } }

    static let choose: @convention(c) (UnsafePointer<sb_host_api>?, OpaquePointer?, UnsafePointer<Double>?, UInt64,
                                       UnsafePointer<sb_choose_request>?, UnsafeMutablePointer<sb_choice>?) -> OpaquePointer? = { host, config, state, length, request, out in withBox(config) { b in
        guard let request, let out else { return error(host, PolicyError(.invalidArgument, "choose: NULL argument")) }
        if let e = check(b, state: state, length: length, arms: request.pointee.arm_count, dim: request.pointee.context_dim) { return error(host, e) }
        let r = request.pointee
        let chooseRequest = ChooseRequest(context: UnsafeBufferPointer(start: r.context, count: Int(r.context_dim)),
                                          unitHash: r.unit_hash, seed: r.seed, time: r.time)
        let probabilities = out.pointee.probabilities.map { UnsafeMutableBufferPointer(start: $0, count: b.arms) }
        do throws(PolicyError) {
            let arm = try b.choose(UnsafeBufferPointer(start: state, count: Int(length)), chooseRequest, probabilities)
            out.pointee.arm = UInt32(arm)
            return nil
        } catch {
            return PolicyThunks.error(host, error)
        }
    } }

    static let update: @convention(c) (UnsafePointer<sb_host_api>?, OpaquePointer?, UnsafePointer<Double>?, UInt64,
                                       UnsafePointer<sb_update_request>?, UnsafeMutablePointer<Double>?) -> OpaquePointer? = { host, config, state, length, request, delta in withBox(config) { b in
        guard let request, delta != nil || length == 0 else { return error(host, PolicyError(.invalidArgument, "update: NULL argument")) }
        let r = request.pointee
        if let e = check(b, state: state, length: length, arms: r.arm_count, dim: r.context_dim) { return error(host, e) }
        guard Int(r.arm) < b.arms else { return error(host, PolicyError(.invalidArgument, "update: arm \(r.arm) is out of range 0..<\(b.arms)")) }
        guard r.reward.isFinite else { return error(host, PolicyError(.invalidArgument, "update: the reward is not finite")) }
        let updateRequest = UpdateRequest(arm: Int(r.arm), context: UnsafeBufferPointer(start: r.context, count: Int(r.context_dim)),
                                          reward: r.reward, propensity: r.propensity, time: r.time)
        do throws(PolicyError) {
            try b.update(UnsafeBufferPointer(start: state, count: Int(length)), updateRequest,
                         UnsafeMutableBufferPointer(start: delta, count: Int(length)))
            return nil
        } catch {
            return PolicyThunks.error(host, error)
        }
    } }

    static let chooseSet: @convention(c) (UnsafePointer<sb_host_api>?, OpaquePointer?, UnsafePointer<Double>?, UInt64, UnsafePointer<sb_choose_request>?,
                                          UInt32, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<UInt32>?) -> OpaquePointer? = {
        host, config, state, length, request, maxArms, outArms, outWeights, outCount in withBox(config) { b in
        guard let request, let outArms, let outWeights, let outCount, maxArms >= 1 else {
            return error(host, PolicyError(.invalidArgument, "choose_set: NULL argument or max_arms = 0"))
        }
        let r = request.pointee
        if let e = check(b, state: state, length: length, arms: r.arm_count, dim: r.context_dim) { return error(host, e) }
        let chooseRequest = ChooseRequest(context: UnsafeBufferPointer(start: r.context, count: Int(r.context_dim)),
                                          unitHash: r.unit_hash, seed: r.seed, time: r.time)
        do throws(PolicyError) {
            let set = try b.chooseSet(UnsafeBufferPointer(start: state, count: Int(length)), chooseRequest, Int(maxArms))
            for (i, item) in set.prefix(Int(maxArms)).enumerated() {
                outArms[i] = UInt32(item.arm)
                outWeights[i] = item.weight
            }
            outCount.pointee = UInt32(min(set.count, Int(maxArms)))
            return nil
        } catch {
            return PolicyThunks.error(host, error)
        }
    } }

    static let combine: @convention(c) (UnsafePointer<sb_host_api>?, OpaquePointer?, UInt32, UnsafePointer<UnsafePointer<Double>?>?,
                                        UnsafePointer<Double>?, UInt64, UnsafeMutablePointer<Double>?) -> OpaquePointer? = {
        host, config, count, outputs, weights, length, out in withBox(config) { b in
        guard count >= 1, let outputs, let weights, let out else {
            return error(host, PolicyError(.invalidArgument, "combine: NULL argument or no outputs"))
        }
        let views = (0..<Int(count)).map { UnsafeBufferPointer(start: outputs[$0], count: Int(length)) }
        let w = (0..<Int(count)).map { weights[$0] }
        do throws(PolicyError) {
            try b.combine(views, w, UnsafeMutableBufferPointer(start: out, count: Int(length)))
            return nil
        } catch {
            return PolicyThunks.error(host, error)
        }
    } }

    /// Checks that a call's shape matches the configuration.
    static func check(_ b: PolicyBox, state: UnsafePointer<Double>?, length: UInt64, arms: UInt32, dim: UInt32) -> PolicyError? {
        if Int(length) != b.stateLength { return PolicyError(.invalidArgument, "expected \(b.stateLength) state values, got \(length)") }
        if b.stateLength > 0 && state == nil { return PolicyError(.invalidArgument, "state is NULL") }
        if Int(arms) != b.arms { return PolicyError(.invalidArgument, "configured for \(b.arms) arms, called with \(arms)") }
        if Int(dim) != b.contextDimension { return PolicyError(.invalidArgument, "configured for \(b.contextDimension) context values, called with \(dim)") }
        return nil
    }
}
