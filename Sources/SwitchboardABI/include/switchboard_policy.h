/*
 * Switchboard policy plugin ABI, major version 2.
 *
 * A policy plugin is a shared library that exports exactly one symbol,
 * `switchboard_policy_library_v2` (declared below), returning a table of one or more
 * policies. The rules, the phrases of ownership and threading, and the host services are
 * in switchboard_common.h.
 *
 *  - Statistics ("state") belong to the host: a flat array of doubles whose length the
 *    policy declares. `choose` only reads them; `update` writes an additive delta that
 *    the host adds to the state (and may sum across replicas), so all state must be
 *    additive (counts, sums, log-weights, discounted sums scaled by e^(lambda*t)).
 *
 * Versions: 1.0 first; 1.1 SB_POLICY_CAP_UNIT_DETERMINISTIC; 2.0 the common header (typed
 * error codes, SB_ERROR_UNAVAILABLE, SB_HOST_API_MINOR in sb_host_api), typed handles,
 * entry prototype, one string convention (sb_policy_setup lost config_json_len).
 */
#ifndef SWITCHBOARD_POLICY_H
#define SWITCHBOARD_POLICY_H

#include "switchboard_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SB_POLICY_ABI_MAJOR 2
#define SB_POLICY_ABI_MINOR 0

/* The only symbol a policy library exports. */
#define SB_POLICY_ENTRY_SYMBOL "switchboard_policy_library_v2"

/* A policy's configuration for one experiment: made by `config_create`, opaque to the host. */
typedef struct sb_policy_config sb_policy_config;

/* Capability flags. They must agree with the optional functions of `sb_policy`. */
#define SB_POLICY_CAP_CONTEXTUAL  (1u << 0) /* uses the context vector (context_dim > 0 required) */
#define SB_POLICY_CAP_ENSEMBLE    (1u << 1) /* choose_set and combine are non-NULL */
#define SB_POLICY_CAP_THREAD_SAFE (1u << 2) /* choose and update may run concurrently */
#define SB_POLICY_CAP_COSTLY_PROBABILITIES (1u << 3) /* probabilities are expensive (e.g. Monte Carlo):
                                                       the host asks for them once per state, not per decision */
#define SB_POLICY_CAP_UNIT_DETERMINISTIC (1u << 4) /* choose depends only on unit_hash and the config,
                                                     never on the state, seed, context or time: a unit
                                                     always gets the same arm, so the host claims no
                                                     unit for it (a fixed split) */

/* What an experiment gives a policy when it is configured. Borrowed for the call. */
typedef struct sb_policy_setup {
    uint32_t struct_size;
    uint32_t arm_count;           /* >= 1 */
    uint32_t context_dim;         /* number of context features, 0 if none */
    uint32_t reserved;
    const char *const *arm_names; /* arm_count names */
    const double *arm_weights;    /* arm_count finite weights >= 0 (fixed splits use them) */
    const char *config_json;      /* the experiment's policy config: a JSON object, "{}" if none */
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

/* Where `choose` writes its answer. Owned by the host; valid for the call. */
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

/* One policy. Owned by the plugin. In every function, `host` is the table given to the
 * entry point; `state` (state_length doubles) is borrowed for the call and read only. */
typedef struct sb_policy {
    uint32_t struct_size;          /* sizeof(sb_policy) as the plugin knows it */
    uint32_t abi_minor;            /* the plugin's SB_POLICY_ABI_MINOR */
    const char *name;              /* [a-z0-9][a-z0-9_-]{0,62}; owned by the plugin */
    const char *version;           /* e.g. "1" or "1.2.0"; owned by the plugin */
    uint64_t capabilities;         /* SB_POLICY_CAP_* */

    /* Validates `setup` (borrowed for the call) and makes a config. On success ownership
     * of *out_config transfers to the host, which frees it with config_destroy. The error
     * should say what to fix in the JSON. Thread-safe. */
    sb_error *(*config_create)(const sb_host_api *host, const sb_policy_setup *setup, sb_policy_config **out_config);
    /* Frees a config; nothing else uses it any more. Thread-safe for distinct configs. */
    void (*config_destroy)(sb_policy_config *config);
    /* The number of doubles of state this config needs. Thread-safe. */
    uint64_t (*state_length)(const sb_policy_config *config);
    /* Writes the prior into `state` (state_len doubles zeroed by the host; owned by the
     * host, valid for the call). Thread-safe. */
    sb_error *(*state_init)(const sb_host_api *host, const sb_policy_config *config, double *state, uint64_t state_len);
    /* Chooses an arm for `request` (borrowed for the call) into `out` (owned by the host,
     * valid for the call). Pure: the same config, state and request give the same answer.
     * Thread-safe with SB_POLICY_CAP_THREAD_SAFE; otherwise serialised by the host. */
    sb_error *(*choose)(const sb_host_api *host, const sb_policy_config *config, const double *state, uint64_t state_len,
                        const sb_choose_request *request, sb_choice *out);
    /* Computes the additive change of the state for one reward (`request`, borrowed for
     * the call) into `delta` (state_len doubles zeroed by the host; owned by the host,
     * valid for the call). Does not modify `state`. Pure. Thread-safe with
     * SB_POLICY_CAP_THREAD_SAFE; otherwise serialised by the host. */
    sb_error *(*update)(const sb_host_api *host, const sb_policy_config *config, const double *state, uint64_t state_len,
                        const sb_update_request *request, double *delta);

    /* Ensembles only (NULL otherwise). Chooses up to `max_arms` arms with weights: writes
     * arm indices to out_arms and weights summing to 1 to out_weights (max_arms values
     * each, owned by the host, valid for the call) and the count to *out_count
     * (1 <= count <= max_arms). Thread-safe with SB_POLICY_CAP_THREAD_SAFE; otherwise
     * serialised by the host. */
    sb_error *(*choose_set)(const sb_host_api *host, const sb_policy_config *config, const double *state, uint64_t state_len,
                            const sb_choose_request *request, uint32_t max_arms,
                            uint32_t *out_arms, double *out_weights, uint32_t *out_count);
    /* Ensembles only (NULL otherwise). Combines `count` output vectors of `length` values
     * (outputs and each outputs[i] borrowed for the call) with `weights` (borrowed for the
     * call) into `out` (length values, owned by the host, valid for the call). Thread-safe
     * with SB_POLICY_CAP_THREAD_SAFE; otherwise serialised by the host. */
    sb_error *(*combine)(const sb_host_api *host, const sb_policy_config *config, uint32_t count,
                         const double *const *outputs, const double *weights, uint64_t length, double *out);
} sb_policy;

/* What the entry point returns. Owned by the plugin. */
typedef struct sb_policy_library {
    uint32_t struct_size;          /* sizeof(sb_policy_library) as the plugin knows it */
    uint32_t abi_major;            /* SB_POLICY_ABI_MAJOR */
    uint32_t abi_minor;            /* SB_POLICY_ABI_MINOR */
    uint32_t policy_count;         /* >= 1 */
    const sb_policy *const *policies; /* policy_count tables; owned by the plugin */
    /* NULL for plugins in C, Rust, ...; for Swift plugins the toolchain tag (the Linux
     * Swift runtime is not ABI-stable, so the host refuses a tag other than its own).
     * Owned by the plugin. */
    const char *build_tag;
} sb_policy_library;

/* The entry point. `host` is owned by the host, for the life of the process. Returns the
 * library (owned by the plugin), or NULL if the plugin cannot work with this host (it may
 * log why). Called once. */
SB_EXPORT const sb_policy_library *switchboard_policy_library_v2(const sb_host_api *host);

/* The entry point's type, for hosts that look it up with dlsym. */
typedef const sb_policy_library *(*sb_policy_library_entry)(const sb_host_api *host);

#ifdef __cplusplus
}
#endif

#endif /* SWITCHBOARD_POLICY_H */
