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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t arms;
    double share;
    double min_samples;
} config;

/* Finds "key": <number> in a flat JSON object. Returns 1 if found, 0 if absent, -1 if malformed. */
static int json_number(const char *json, size_t len, const char *key, double *out) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    char *text = strndup(json, len);
    if (!text) return -1;
    const char *at = strstr(text, pattern);
    int found = 0;
    if (at) {
        at += strlen(pattern);
        while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r') at++;
        found = -1;
        if (*at == ':') {
            char *end;
            double value = strtod(at + 1, &end);
            if (end != at + 1 && isfinite(value)) { *out = value; found = 1; }
        }
    }
    free(text);
    return found;
}

static sb_error *config_create(const sb_host_api *host, const sb_policy_setup *setup, void **out) {
    const char *json = setup->config_json ? setup->config_json : "{}";
    size_t len = setup->config_json ? setup->config_json_len : 2;
    size_t i = 0;
    while (i < len && (json[i] == ' ' || json[i] == '\n' || json[i] == '\t' || json[i] == '\r')) i++;
    if (i == len || json[i] != '{') return host->error_new(host->host_context, SB_ERROR_INVALID_CONFIG, "the config must be a JSON object");
    double share = 0.1, min_samples = 100;
    if (json_number(json, len, "challenger_share", &share) < 0 || share < 0 || share > 1)
        return host->error_new(host->host_context, SB_ERROR_INVALID_CONFIG, "'challenger_share' must be a number between 0 and 1");
    if (json_number(json, len, "min_samples", &min_samples) < 0 || min_samples < 0)
        return host->error_new(host->host_context, SB_ERROR_INVALID_CONFIG, "'min_samples' must be a number >= 0");
    if (setup->arm_count < 2 && share > 0)
        return host->error_new(host->host_context, SB_ERROR_INVALID_CONFIG, "champion/challenger needs at least two arms");
    config *c = malloc(sizeof *c);
    if (!c) return host->error_new(host->host_context, SB_ERROR_INTERNAL, "out of memory");
    c->arms = setup->arm_count;
    c->share = share;
    c->min_samples = min_samples;
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
