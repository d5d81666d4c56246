/*
 * Switchboard policy plugin ABI, major version 1.
 *
 * A policy plugin is a shared library that exports exactly one symbol,
 * `switchboard_policy_library_v1`, returning a table of one or more policies. Everything
 * else goes through function tables: the host passes its services in (`sb_host_api`),
 * the plugin returns its constant tables.
 *
 * Rules (see docs/plugins.md for the why):
 *  - Every struct that may grow starts with `struct_size`; fields are only appended.
 *    A reader uses a field only if `struct_size` covers it. The ABI minor version counts
 *    appended fields: a host accepts a plugin whose major version matches and whose
 *    minor is not newer than the host's.
 *  - A fallible function returns `sb_error *`: NULL is success. Errors are created only
 *    with `host->error_new` and freed only by the host. Nothing unwinds across this
 *    boundary: no C++ exception, no Swift error, no longjmp, no abort on bad input.
 *  - No memory allocated by one side is freed by the other. Outputs go into buffers the
 *    host provides, with their lengths.
 *  - Statistics ("state") belong to the host: a flat array of doubles whose length the
 *    policy declares. `choose` only reads them; `update` writes an additive delta that
 *    the host adds to the state (and may sum across replicas), so all state must be
 *    additive (counts, sums, log-weights, discounted sums scaled by e^(lambda*t)).
 *  - Phrases: "borrowed for the call" = valid only during the call, do not keep;
 *    "owned by the plugin" = constant for the life of the process, the host never frees it;
 *    "ownership transfers to the host" = the host frees it.
 *  - Libraries are loaded once and never unloaded.
 */
#ifndef SWITCHBOARD_POLICY_H
#define SWITCHBOARD_POLICY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SB_POLICY_ABI_MAJOR 1
#define SB_POLICY_ABI_MINOR 1  /* 1: SB_POLICY_CAP_UNIT_DETERMINISTIC */

/* The only symbol a policy library exports. */
#define SB_POLICY_ENTRY_SYMBOL "switchboard_policy_library_v1"

/* An error: opaque, created by `sb_host_api.error_new`, freed by the host. */
typedef struct sb_error sb_error;

/* Stable error codes a plugin passes to `error_new`. */
enum {
    SB_ERROR_INVALID_CONFIG = 1,  /* the JSON configuration is not acceptable */
    SB_ERROR_INVALID_ARGUMENT = 2,/* a request does not fit the configuration */
    SB_ERROR_NUMERIC = 3,         /* the state or a result is not finite */
    SB_ERROR_INTERNAL = 4         /* anything else */
};

typedef enum sb_log_level {
    SB_LOG_DEBUG = 0,
    SB_LOG_INFO = 1,
    SB_LOG_WARNING = 2,
    SB_LOG_ERROR = 3
} sb_log_level;

/* Services the host offers to plugins. Owned by the host, valid for the life of the
 * process; every function may be called from any thread, concurrently. */
typedef struct sb_host_api {
    uint32_t struct_size;   /* sizeof(sb_host_api) as the host knows it */
    uint32_t abi_minor;     /* the host's SB_POLICY_ABI_MINOR */
    void *host_context;     /* pass back to every function below */
    /* Creates an error. `message` is borrowed for the call (copied by the host).
     * Ownership of the result transfers to the caller, who must return it from a
     * fallible function (the host then frees it). Never returns NULL. */
    sb_error *(*error_new)(void *host_context, int32_t code, const char *message);
    /* Writes a log line. `message` is borrowed for the call. */
    void (*log)(void *host_context, sb_log_level level, const char *message);
    /* Adds `value` to the plugin-defined counter `name` (exported as a metric).
     * `name` is borrowed for the call and must match [a-z_][a-z0-9_]{0,62}. */
    void (*metric_add)(void *host_context, const char *name, double value);
} sb_host_api;

/* Capability flags. They must agree with the optional functions of `sb_policy_v1`. */
#define SB_POLICY_CAP_CONTEXTUAL  (1u << 0) /* uses the context vector (context_dim > 0 required) */
#define SB_POLICY_CAP_ENSEMBLE    (1u << 1) /* choose_set and combine are non-NULL */
#define SB_POLICY_CAP_THREAD_SAFE (1u << 2) /* choose and update may run concurrently */
#define SB_POLICY_CAP_COSTLY_PROBABILITIES (1u << 3) /* probabilities are expensive (e.g. Monte Carlo):
                                                       the host asks for them once per state, not per decision */
#define SB_POLICY_CAP_UNIT_DETERMINISTIC (1u << 4) /* (minor 1) choose depends only on unit_hash and the
                                                     config, never on the state, seed, context or time: a
                                                     unit always gets the same arm, so the host claims no
                                                     unit for it (a fixed split) */

/* What an experiment gives a policy when it is configured. Borrowed for the call. */
typedef struct sb_policy_setup {
    uint32_t struct_size;
    uint32_t arm_count;           /* >= 1 */
    uint32_t context_dim;         /* number of context features, 0 if none */
    uint32_t reserved;
    const char *const *arm_names; /* arm_count NUL-terminated UTF-8 names */
    const double *arm_weights;    /* arm_count finite weights >= 0 (fixed splits use them) */
    const char *config_json;      /* the experiment's policy config: UTF-8 JSON, "{}" if none */
    size_t config_json_len;
} sb_policy_setup;

/* One decision to make. Borrowed for the call. */
typedef struct sb_choose_request {
    uint32_t struct_size;
    uint32_t arm_count;
    uint32_t context_dim;
    uint32_t reserved;
    const double *context;        /* context_dim values (NULL when context_dim == 0) */
    uint64_t unit_hash;           /* stable hash of (experiment salt, unit): same unit, same value */
    uint64_t seed;                /* random per decision, logged: the same seed gives the same choice */
    double time;                  /* seconds since the experiment's time origin (for discounting) */
} sb_choose_request;

/* Where `choose` writes its answer. The host owns the memory. */
typedef struct sb_choice {
    uint32_t struct_size;
    uint32_t arm;                 /* out: the chosen arm, < arm_count */
    double *probabilities;        /* out: arm_count probabilities summing to 1, or NULL when
                                     the host does not need them for this call */
} sb_choice;

/* One observed reward. Borrowed for the call. */
typedef struct sb_update_request {
    uint32_t struct_size;
    uint32_t arm_count;
    uint32_t context_dim;
    uint32_t arm;                 /* the arm the decision chose */
    const double *context;        /* the decision's context, context_dim values */
    double reward;                /* finite */
    double propensity;            /* the logged probability of `arm`, in (0, 1] */
    double time;                  /* seconds since the experiment's time origin */
} sb_update_request;

/* One policy. Owned by the plugin: constant for the life of the process.
 * A "config" is an opaque value the policy creates from an sb_policy_setup. */
typedef struct sb_policy_v1 {
    uint32_t struct_size;          /* sizeof(sb_policy_v1) as the plugin knows it */
    uint32_t abi_minor;            /* the plugin's SB_POLICY_ABI_MINOR */
    const char *name;              /* [a-z0-9][a-z0-9_-]{0,62}, owned by the plugin */
    const char *version;           /* e.g. "1" or "1.2.0", owned by the plugin */
    uint64_t capabilities;         /* SB_POLICY_CAP_* */

    /* Validates the setup and creates a config. On success *out_config is set; free it
     * with config_destroy. The error message should say what to fix in the JSON.
     * Thread-safe. */
    sb_error *(*config_create)(const sb_host_api *host, const sb_policy_setup *setup, void **out_config);
    /* Frees a config. Thread-safe for distinct configs. */
    void (*config_destroy)(void *config);
    /* The number of doubles of state this config needs. Pure. */
    uint64_t (*state_length)(const void *config);
    /* Writes the prior (initial state) into `state` (state_length doubles, zeroed by the
     * host). Pure. */
    sb_error *(*state_init)(const sb_host_api *host, const void *config, double *state, uint64_t state_len);
    /* Chooses an arm. Reads `state` (borrowed), writes `out` (host memory). Pure: the
     * same config, state and request give the same answer. Concurrent calls are allowed
     * when SB_POLICY_CAP_THREAD_SAFE is set. */
    sb_error *(*choose)(const sb_host_api *host, const void *config, const double *state, uint64_t state_len,
                        const sb_choose_request *request, sb_choice *out);
    /* Computes the additive change of the state for one reward into `delta`
     * (state_length doubles, zeroed by the host). Does not modify `state`. Pure. */
    sb_error *(*update)(const sb_host_api *host, const void *config, const double *state, uint64_t state_len,
                        const sb_update_request *request, double *delta);

    /* Ensembles only (NULL otherwise). Chooses up to `max_arms` arms with weights:
     * writes arm indices to out_arms and weights summing to 1 to out_weights, the count
     * to *out_count (1 <= count <= max_arms). */
    sb_error *(*choose_set)(const sb_host_api *host, const void *config, const double *state, uint64_t state_len,
                            const sb_choose_request *request, uint32_t max_arms,
                            uint32_t *out_arms, double *out_weights, uint32_t *out_count);
    /* Ensembles only (NULL otherwise). Combines `count` output vectors of `length` values
     * each (outputs[i] is borrowed) with `weights` into `out` (length values). */
    sb_error *(*combine)(const sb_host_api *host, const void *config, uint32_t count,
                         const double *const *outputs, const double *weights, uint64_t length, double *out);
} sb_policy_v1;

/* What the entry symbol returns. Owned by the plugin: constant for the life of the process. */
typedef struct sb_policy_library_v1 {
    uint32_t struct_size;          /* sizeof(sb_policy_library_v1) as the plugin knows it */
    uint32_t abi_major;            /* SB_POLICY_ABI_MAJOR */
    uint32_t abi_minor;            /* SB_POLICY_ABI_MINOR */
    uint32_t policy_count;         /* >= 1 */
    const sb_policy_v1 *const *policies;
    /* NULL for plugins in C, Rust, ...; for Swift plugins the toolchain tag (the Linux
     * Swift runtime is not ABI-stable, so the host refuses a tag other than its own). */
    const char *build_tag;
} sb_policy_library_v1;

/* The entry point. `host` is owned by the host and valid for the life of the process.
 * Returns NULL if the plugin cannot work with this host (it may log why). Called once. */
typedef const sb_policy_library_v1 *(*sb_policy_library_entry_v1)(const sb_host_api *host);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHBOARD_POLICY_H */
