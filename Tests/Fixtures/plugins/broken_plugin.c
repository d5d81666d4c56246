/*
 * One small policy plugin ("fixture-uniform") and, selected with -D flags, the ways a
 * plugin can be broken. The tests compile each variant and check that the host refuses
 * it with a precise error, or that `switchboard plugin check` fails on it.
 *   -DNO_ENTRY        exports no entry symbol
 *   -DWRONG_MAJOR     exports switchboard_policy_library_v1 instead (a plugin of the old major)
 *   -DMINOR_TOO_NEW   declares abi_minor 99
 *   -DSMALL_STRUCT    declares a library struct_size of 8
 *   -DCAP_MISMATCH    declares the ensemble capability without choose_set / combine
 *   -DFOREIGN_TAG     declares a Swift build tag of another toolchain
 *   -DBAD_NAME        declares the policy name "Bad Name"
 *   -DBAD_PROBS       returns probabilities that sum to 0.5
 *   -DCRASH           dereferences NULL in choose
 *   -DCRASH_ON_3_ARMS dereferences NULL in choose with exactly 3 arms (passes the check, which uses 10)
 *   -DHANG            never returns from choose
 *   -DCRASH_AT_LOAD   dereferences NULL in a library constructor (before any check of the host's)
 *   -DNAME=...        overrides the policy name (to test duplicates)
 *   -DVERSION=...     overrides the policy version
 *   -DMETRICS         (not broken) logs and reports a custom metric from choose
 *   -DMARKER=n        (not broken) changes the file's bytes without changing behaviour
 */
#include "switchboard_policy.h"
#include <stdlib.h>
#include <string.h>

#ifndef NAME
#ifdef BAD_NAME
#define NAME "Bad Name"
#else
#define NAME "fixture-uniform"
#endif
#endif

#ifndef VERSION
#define VERSION "1"
#endif

struct sb_policy_config { uint32_t arms; };
typedef struct sb_policy_config config;

#ifdef MARKER
__attribute__((used)) static const int marker = MARKER;
#endif

/* A volatile pointer: the compiler cannot prove it NULL and drop the write. */
static volatile int *volatile nowhere = NULL;

#ifdef CRASH_AT_LOAD
__attribute__((constructor)) static void crash_at_load(void) { *nowhere = 1; }
#endif

static sb_error *config_create(const sb_host_api *host, const sb_policy_setup *setup, sb_policy_config **out) {
    size_t n = strlen(setup->config_json);
    if (n < 2 || setup->config_json[0] != '{' || setup->config_json[n - 1] != '}')
        return host->error_new(host->host_context, SB_ERROR_INVALID_CONFIG, "the config must be a JSON object");
    config *c = malloc(sizeof *c);
    c->arms = setup->arm_count;
    *out = c;
    return NULL;
}
static void config_destroy(sb_policy_config *c) { free(c); }
static uint64_t state_length(const sb_policy_config *c) { (void)c; return 0; }
static sb_error *state_init(const sb_host_api *h, const sb_policy_config *c, double *s, uint64_t n) { (void)h; (void)c; (void)s; (void)n; return NULL; }

static sb_error *choose(const sb_host_api *host, const sb_policy_config *cfg, const double *state, uint64_t len,
                        const sb_choose_request *req, sb_choice *out) {
    (void)host; (void)state; (void)len;
    const config *c = cfg;
#if defined(CRASH) || defined(CRASH_ON_3_ARMS)
#ifdef CRASH_ON_3_ARMS
    if (c->arms == 3)
#endif
    *nowhere = 1;
#endif
#ifdef HANG
    for (volatile int forever = 1; forever;) {}
#endif
#ifdef METRICS
    host->metric_add(host->host_context, "fixture_choices", 1);
    host->log(host->host_context, SB_LOG_DEBUG, "fixture chose");
#endif
    out->arm = (uint32_t)(req->seed % c->arms);
    if (out->probabilities) {
        for (uint32_t i = 0; i < c->arms; i++) {
#ifdef BAD_PROBS
            out->probabilities[i] = 0.5 / c->arms;
#else
            out->probabilities[i] = 1.0 / c->arms;
#endif
        }
    }
    return NULL;
}

static sb_error *update(const sb_host_api *host, const sb_policy_config *cfg, const double *state, uint64_t len,
                        const sb_update_request *req, double *delta) {
    const config *c = cfg;
    (void)state; (void)len; (void)delta;
    if (req->arm >= c->arms) return host->error_new(host->host_context, SB_ERROR_INVALID_ARGUMENT, "arm out of range");
    return NULL;
}

static const sb_policy policy = {
    .struct_size = sizeof(sb_policy),
    .abi_minor = SB_POLICY_ABI_MINOR,
    .name = NAME,
    .version = VERSION,
#ifdef CAP_MISMATCH
    .capabilities = SB_POLICY_CAP_THREAD_SAFE | SB_POLICY_CAP_ENSEMBLE,
#else
    .capabilities = SB_POLICY_CAP_THREAD_SAFE,
#endif
    .config_create = config_create,
    .config_destroy = config_destroy,
    .state_length = state_length,
    .state_init = state_init,
    .choose = choose,
    .update = update,
};

static const sb_policy *const policies[] = {&policy};

static const sb_policy_library library = {
#ifdef SMALL_STRUCT
    .struct_size = 8,
#else
    .struct_size = sizeof(sb_policy_library),
#endif
    .abi_major = SB_POLICY_ABI_MAJOR,
#ifdef MINOR_TOO_NEW
    .abi_minor = 99,
#else
    .abi_minor = SB_POLICY_ABI_MINOR,
#endif
    .policy_count = 1,
    .policies = policies,
#ifdef FOREIGN_TAG
    .build_tag = "swift-0.1-x86_64-linux",
#else
    .build_tag = NULL,
#endif
};

#if defined(WRONG_MAJOR)
__attribute__((visibility("default")))
const sb_policy_library *switchboard_policy_library_v1(const sb_host_api *host) { (void)host; return &library; }
#elif !defined(NO_ENTRY)
const sb_policy_library *switchboard_policy_library_v2(const sb_host_api *host) { (void)host; return &library; }
#else
__attribute__((visibility("default")))
int some_other_function(void) { return (int)library.policy_count; }
#endif
