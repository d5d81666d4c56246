/*
 * A third-party policy plugin in plain C: champion/challenger.
 *
 * The champion is the arm with the best mean reward among arms with at least
 * `min_samples` rewards (arm 0 until then); it gets 1 - challenger_share of the traffic,
 * and the other arms share the rest evenly. State: per arm (reward count, reward sum).
 *
 * Config: {"challenger_share": 0.1, "min_samples": 100}
 * Build:  cc -shared -fPIC -fvisibility=hidden -O2 -I Sources/SwitchboardABI/include \
 *            -o policies/libchampion_challenger.so policies/examples/champion_challenger.c -lcjson -lm
 */
#include "switchboard_policy.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sb_policy_config {
    uint32_t arms;
    double share;
    double min_samples;
};
typedef struct sb_policy_config config;

/* Reads {"challenger_share": 0.1, "min_samples": 100} (both optional) into `c` with cJSON.
 * Returns NULL on success, or a message saying what is wrong. */
static const char *parse_config(const char *json, config *c) {
    cJSON *root = cJSON_Parse(json);
    const char *problem = NULL;
    if (!root || !cJSON_IsObject(root)) {
        problem = "the config must be a JSON object";
    } else {
        for (const cJSON *item = root->child; item && !problem; item = item->next) {
            if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
                problem = "config values must be numbers";
            } else if (strcmp(item->string, "challenger_share") == 0) {
                if (item->valuedouble < 0 || item->valuedouble > 1) problem = "'challenger_share' must be between 0 and 1";
                else c->share = item->valuedouble;
            } else if (strcmp(item->string, "min_samples") == 0) {
                if (item->valuedouble < 0) problem = "'min_samples' must be >= 0";
                else c->min_samples = item->valuedouble;
            } else {
                problem = "unknown config key; allowed: challenger_share, min_samples";
            }
        }
    }
    cJSON_Delete(root);
    return problem;
}

static sb_error *config_create(const sb_host_api *host, const sb_policy_setup *setup, sb_policy_config **out) {
    config parsed = {.arms = setup->arm_count, .share = 0.1, .min_samples = 100};
    const char *problem = setup->config_json ? parse_config(setup->config_json, &parsed) : NULL;
    if (problem) return host->error_new(host->host_context, SB_ERROR_INVALID_CONFIG, problem);
    if (setup->arm_count < 2 && parsed.share > 0)
        return host->error_new(host->host_context, SB_ERROR_INVALID_CONFIG, "champion/challenger needs at least two arms");
    config *c = malloc(sizeof *c);
    if (!c) return host->error_new(host->host_context, SB_ERROR_INTERNAL, "out of memory");
    *c = parsed;
    *out = c;
    return NULL;
}

static void config_destroy(sb_policy_config *c) { free(c); }

static uint64_t state_length(const sb_policy_config *c) { return 2u * c->arms; }

static sb_error *state_init(const sb_host_api *host, const sb_policy_config *c, double *state, uint64_t len) {
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

static sb_error *choose(const sb_host_api *host, const sb_policy_config *cfg, const double *state, uint64_t len,
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

static sb_error *update(const sb_host_api *host, const sb_policy_config *cfg, const double *state, uint64_t len,
                        const sb_update_request *req, double *delta) {
    const config *c = cfg;
    (void)state;
    if (len != 2u * c->arms || req->arm >= c->arms)
        return host->error_new(host->host_context, SB_ERROR_INVALID_ARGUMENT, "arm out of range");
    delta[2 * req->arm] = 1;
    delta[2 * req->arm + 1] = req->reward;
    return NULL;
}

static const sb_policy policy = {
    .struct_size = sizeof(sb_policy),
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

static const sb_policy *const policies[] = {&policy};

static const sb_policy_library library = {
    .struct_size = sizeof(sb_policy_library),
    .abi_major = SB_POLICY_ABI_MAJOR,
    .abi_minor = SB_POLICY_ABI_MINOR,
    .policy_count = 1,
    .policies = policies,
    .build_tag = NULL,
};

const sb_policy_library *switchboard_policy_library_v2(const sb_host_api *host) {
    if (!host || host->struct_size < sizeof(sb_host_api)) return NULL;
    return &library;
}
