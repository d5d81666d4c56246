/*
 * Switchboard plugin ABI: what the policy ABI (switchboard_policy.h) and the model-backend
 * ABI (switchboard_backend.h) share. Host services version: SB_HOST_API_MINOR.
 *
 * Rules (docs/plugins.md says why):
 *  - A plugin library exports exactly one symbol, its entry point, declared in its header
 *    with SB_EXPORT: the compiler checks the plugin's definition against that prototype.
 *    Everything else goes through function tables.
 *  - A struct that may grow starts with `struct_size`; fields are only appended, and each
 *    appended field bumps the header's minor version. A reader uses a field only if
 *    `struct_size` covers it. A host accepts a plugin whose major version matches and
 *    whose minor is not newer than its own. A struct marked SB_FROZEN has no
 *    `struct_size` and never changes within a major version.
 *  - A fallible function returns `sb_error *`: NULL is success. Errors are created only
 *    with `host->error_new` and freed only by the host. Nothing unwinds across this
 *    boundary: no C++ exception, no Swift error, no longjmp, no abort on bad input.
 *  - No memory allocated by one side is freed by the other. Outputs go into buffers the
 *    host provides, with their lengths.
 *  - Strings: every string is NUL-terminated UTF-8; no string has a separate length.
 *  - Handles are typed and opaque (`sb_policy_config *`, `sb_model *`, ...): only the side
 *    that made one looks inside it.
 *  - Libraries are loaded once and never unloaded.
 *
 * Every function states who owns what it is given and returns, and how it may be called,
 * with these fixed phrases:
 *  Ownership
 *   "Borrowed for the call"      valid only during the call: do not keep it, do not free it.
 *   "Owned by the plugin"        the plugin keeps it valid and unchanged as long as stated
 *                                ("for the life of the process" if nothing is stated).
 *   "Owned by the host"          the same, kept by the host.
 *   "Ownership transfers to X"   X frees it, with the function named.
 *  Threading
 *   "Thread-safe"                may be called from any thread, concurrently, for any handle.
 *   "Thread-safe for distinct X" concurrent calls for different X; never for the same X.
 *   "Serialised by the host"     the host never makes two such calls at once for one handle.
 *   "Called once"                once per handle (or per library for entry points).
 */
#ifndef SWITCHBOARD_COMMON_H
#define SWITCHBOARD_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define SB_EXTERN_C extern "C"
#else
#define SB_EXTERN_C extern
#endif

/* Marks the one symbol a plugin exports (build with -fvisibility=hidden). */
#if defined(__GNUC__) || defined(__clang__)
#define SB_EXPORT SB_EXTERN_C __attribute__((visibility("default")))
#else
#define SB_EXPORT SB_EXTERN_C
#endif

/* Marks a struct without `struct_size`: it never changes within a major version. */
#define SB_FROZEN

#ifdef __cplusplus
extern "C" {
#endif

#define SB_HOST_API_MINOR 0

/* What went wrong, as a plugin reports it. Append-only: a code keeps its number forever,
 * and a host treats a code it does not know as SB_ERROR_INTERNAL. */
typedef enum sb_error_code {
    SB_ERROR_INVALID_CONFIG = 1,   /* the JSON configuration is not acceptable */
    SB_ERROR_INVALID_ARGUMENT = 2, /* a request does not fit the configuration or the model */
    SB_ERROR_NUMERIC = 3,          /* the state or a result is not finite */
    SB_ERROR_INTERNAL = 4,         /* a bug or anything else */
    SB_ERROR_UNAVAILABLE = 5       /* something the plugin needs (a server, a file) cannot be
                                      reached now; the same call may succeed later */
} sb_error_code;

/* An error: opaque, made by `sb_host_api.error_new`, freed by the host. */
typedef struct sb_error sb_error;

/* The host's side of `sb_host_api`: opaque to plugins. */
typedef struct sb_host_context sb_host_context;

typedef enum sb_log_level {
    SB_LOG_DEBUG = 0,
    SB_LOG_INFO = 1,
    SB_LOG_WARNING = 2,
    SB_LOG_ERROR = 3
} sb_log_level;

/* Services the host offers to plugins, given to the entry point. Owned by the host, for
 * the life of the process. Every function is thread-safe. */
typedef struct sb_host_api {
    uint32_t struct_size;          /* sizeof(sb_host_api) as the host knows it */
    uint32_t abi_minor;            /* the host's SB_HOST_API_MINOR */
    sb_host_context *host_context; /* owned by the host; pass it back to every function below */
    /* Creates an error. `message` is borrowed for the call (the host copies it). Ownership
     * of the result transfers to the plugin, which must return it from the fallible
     * function it is in (ownership then transfers to the host). Never returns NULL.
     * Thread-safe. */
    sb_error *(*error_new)(sb_host_context *host_context, sb_error_code code, const char *message);
    /* Writes a log line. `message` is borrowed for the call. Thread-safe. */
    void (*log)(sb_host_context *host_context, sb_log_level level, const char *message);
    /* Adds `value` to the plugin-defined counter `name` (exported as a metric). `name` is
     * borrowed for the call and must match [a-z_][a-z0-9_]{0,62}. Thread-safe. */
    void (*metric_add)(sb_host_context *host_context, const char *name, double value);
} sb_host_api;

#ifdef __cplusplus
}
#endif

#endif /* SWITCHBOARD_COMMON_H */
