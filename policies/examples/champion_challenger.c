/*
 * A third-party policy plugin in plain C: champion/challenger.
 *
 * The champion is the arm with the best mean reward among arms with at least
 * `min_samples` rewards (arm 0 until then); it gets 1 - challenger_share of the traffic,
 * and the other arms share the rest evenly. State: per arm (reward count, reward sum).
 *
 * Config: {"challenger_share": 0.1, "min_samples": 100}
 * Build:  cc -shared -fPIC -fvisibility=hidden -O2 -I Sources/SwitchboardABI/include \
 *            -o policies/libchampion_challenger.so policies/examples/champion_challenger.c
 */
#include "switchboard_policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t arms;
    double share;
    double min_samples;
} config;

static const char *skip_space(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* Parses a flat JSON object of numbers, {"challenger_share": 0.1, "min_samples": 100},
 * into `c`. Returns NULL on success, or a message saying what is wrong. */
static const char *parse_config(const char *p, size_t len, config *c) {
    const char *end = p + len;
    p = skip_space(p, end);
    if (p == end || *p != '{') return "the config must be a JSON object";
    p = skip_space(p + 1, end);
    if (p < end && *p == '}') return skip_space(p + 1, end) == end ? NULL : "unexpected text after the config object";
    for (;;) {
        if (p == end || *p != '"') return "expected a quoted key in the config object";
        const char *key = ++p;
        while (p < end && *p != '"') p++;
        if (p == end) return "unterminated key in the config object";
        size_t key_len = (size_t)(p - key);
        p = skip_space(p + 1, end);
        if (p == end || *p != ':') return "expected ':' after a key in the config object";
        p = skip_space(p + 1, end);
        char buffer[64];
        size_t n = 0;
        while (p < end && n < sizeof buffer - 1 && strchr("+-0123456789.eE", *p)) buffer[n++] = *p++;
        buffer[n] = 0;
        char *number_end;
        double value = strtod(buffer, &number_end);
        if (n == 0 || *number_end != 0 || !isfinite(value)) return "config values must be numbers";
        if (key_len == 16 && strncmp(key, "challenger_share", 16) == 0) {
            if (value < 0 || value > 1) return "'challenger_share' must be between 0 and 1";
            c->share = value;
        } else if (key_len == 11 && strncmp(key, "min_samples", 11) == 0) {
            if (value < 0) return "'min_samples' must be >= 0";
            c->min_samples = value;
        } else {
            return "unknown config key; allowed: challenger_share, min_samples";
        }
        p = skip_space(p, end);
        if (p < end && *p == ',') { p = skip_space(p + 1, end); continue; }
        if (p < end && *p == '}') return skip_space(p + 1, end) == end ? NULL : "unexpected text after the config object";
        return "expected ',' or '}' in the config object";
    }
}

static sb_error *config_create(const sb_host_api *host, const sb_policy_setup *setup, void **out) {
    config parsed = {.arms = setup->arm_count, .share = 0.1, .min_samples = 100};
    const char *problem = setup->config_json ? parse_config(setup->config_json, setup->config_json_len, &parsed) : NULL;
    if (problem) return host->error_new(host->host_context, SB_ERROR_INVALID_CONFIG, problem);
    if (setup->arm_count < 2 && parsed.share > 0)
        return host->error_new(host->host_context, SB_ERROR_INVALID_CONFIG, "champion/challenger needs at least two arms");
    config *c = malloc(sizeof *c);
    if (!c) return host->error_new(host->host_context, SB_ERROR_INTERNAL, "out of memory");
    *c = parsed;
    *out = c;
    return NULL;
}

static void config_destroy(void *c) { free(c); }

static uint64_t state_length(const void *c) { return 2u * ((const config *)c)->arms; }

static sb_error *state_init(const sb_host_api *host, const void *c, double *state, uint64_t len) {
    (void)host; (void)c; (void)state; (void)len;
    return NULL; /* all zeros */
}

static uint32_t champion(const config *c, const double *state) {
    uint32_t best = 0;
    double best_mean = -INFINITY;
    for (uint32_t i = 0; i < c->arms; i++) {
        double n = state[2 * i], sum = state[2 * i + 1];
        if (n >= c->min_samples && n > 0 && sum / n > best_mean) { best_mean = sum / n; best = i; }
    }
    return best;
}

static double uniform01(uint64_t seed) {
    /* SplitMix64 finaliser: one well-mixed draw from the seed. */
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static sb_error *choose(const sb_host_api *host, const void *cfg, const double *state, uint64_t len,
                        const sb_choose_request *req, sb_choice *out) {
    const config *c = cfg;
    if (len != 2u * c->arms || req->arm_count != c->arms)
        return host->error_new(host->host_context, SB_ERROR_INVALID_ARGUMENT, "state or arm count does not match the config");
    uint32_t best = champion(c, state);
    double challenger = c->arms > 1 ? c->share / (c->arms - 1) : 0;
    double u = uniform01(req->seed), cumulative = 0;
    uint32_t arm = best;
    int picked = 0;
    for (uint32_t i = 0; i < c->arms; i++) {
        double p = i == best ? 1 - c->share : challenger;
        if (out->probabilities) out->probabilities[i] = p;
        cumulative += p;
        if (!picked && u < cumulative) { arm = i; picked = 1; }
    }
    /* Rounding can leave u past the last partial sum: take an arm that has mass. */
    if (!picked && c->share >= 1) arm = best == c->arms - 1 ? c->arms - 2 : c->arms - 1;
    out->arm = arm;
    return NULL;
}

static sb_error *update(const sb_host_api *host, const void *cfg, const double *state, uint64_t len,
                        const sb_update_request *req, double *delta) {
    const config *c = cfg;
    (void)state;
    if (len != 2u * c->arms || req->arm >= c->arms)
        return host->error_new(host->host_context, SB_ERROR_INVALID_ARGUMENT, "arm out of range");
    delta[2 * req->arm] = 1;
    delta[2 * req->arm + 1] = req->reward;
    return NULL;
}

static const sb_policy_v1 policy = {
    .struct_size = sizeof(sb_policy_v1),
    .abi_minor = SB_POLICY_ABI_MINOR,
    .name = "champion-challenger",
    .version = "1",
    .capabilities = SB_POLICY_CAP_THREAD_SAFE,
    .config_create = config_create,
    .config_destroy = config_destroy,
    .state_length = state_length,
    .state_init = state_init,
    .choose = choose,
    .update = update,
    .choose_set = NULL,
    .combine = NULL,
};

static const sb_policy_v1 *const policies[] = {&policy};

static const sb_policy_library_v1 library = {
    .struct_size = sizeof(sb_policy_library_v1),
    .abi_major = SB_POLICY_ABI_MAJOR,
    .abi_minor = SB_POLICY_ABI_MINOR,
    .policy_count = 1,
    .policies = policies,
    .build_tag = NULL,
};

__attribute__((visibility("default")))
const sb_policy_library_v1 *switchboard_policy_library_v1(const sb_host_api *host) {
    if (!host || host->struct_size < sizeof(sb_host_api)) return NULL;
    return &library;
}
