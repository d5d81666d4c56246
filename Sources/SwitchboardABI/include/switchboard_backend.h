/*
 * Switchboard model-backend plugin ABI, major version 2.
 *
 * A backend turns named input tensors into named output tensors, like the Open Inference
 * Protocol (KServe V2). A backend library exports exactly one symbol,
 * `switchboard_backend_library_v2` (declared below), returning a table of one or more
 * backends. The rules, the phrases of ownership and threading, and the host services are
 * in switchboard_common.h.
 *
 * Life cycle: `initialize` once per registration (backend-wide state, e.g. a thread pool
 * or an HTTP client) -> `model_load` per model folder -> `model_metadata` (constant until
 * unload) -> `infer` any number of times -> `model_unload` -> `finalize`.
 *
 * Tensors: the host checks every request against the model's metadata before `infer`
 * (names, datatypes, ranks, fixed dimensions, byte sizes), so a backend may trust its
 * inputs. The host allocates every output with the shape of the metadata, where a -1
 * dimension takes the size of the inputs' -1 dimension (the batch size). Data is dense,
 * row-major, little-endian; BOOL is one byte.
 *
 * Versions: 1.0 first; 2.0 the common header, the host table given to the entry point, a
 * build tag, typed handles, entry prototype, frozen tensor structs marked.
 */
#ifndef SWITCHBOARD_BACKEND_H
#define SWITCHBOARD_BACKEND_H

#include "switchboard_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SB_BACKEND_ABI_MAJOR 2
#define SB_BACKEND_ABI_MINOR 0

/* The only symbol a backend library exports. */
#define SB_BACKEND_ENTRY_SYMBOL "switchboard_backend_library_v2"

/* The most dimensions a tensor has. */
#define SB_MAX_RANK 8

/* A backend's state for one registration: made by `initialize`, opaque to the host. */
typedef struct sb_backend_state sb_backend_state;
/* A loaded model: made by `model_load`, opaque to the host. */
typedef struct sb_model sb_model;
/* The host's side of one asynchronous inference: opaque to the backend. */
typedef struct sb_completion_context sb_completion_context;

/* Tensor element types, named as in the Open Inference Protocol. */
typedef enum sb_datatype {
    SB_DATATYPE_BOOL = 1,  /* "BOOL", one byte, 0 or 1 */
    SB_DATATYPE_INT32 = 2, /* "INT32" */
    SB_DATATYPE_INT64 = 3, /* "INT64" */
    SB_DATATYPE_FP32 = 4,  /* "FP32" */
    SB_DATATYPE_FP64 = 5   /* "FP64" */
} sb_datatype;

/* A declared input or output of a model. */
typedef struct SB_FROZEN sb_tensor_desc {
    const char *name;            /* [A-Za-z0-9_.-]{1,63} */
    int32_t datatype;            /* sb_datatype */
    uint32_t rank;               /* 1..SB_MAX_RANK */
    int64_t shape[SB_MAX_RANK];  /* rank sizes, each > 0 or -1 (any size: the batch) */
} sb_tensor_desc;

/* What a loaded model takes and gives (Open Inference Protocol model metadata). Filled by
 * `model_metadata`; the pointers are owned by the plugin and stay valid and unchanged
 * until `model_unload`. */
typedef struct sb_model_metadata {
    uint32_t struct_size;        /* set by the host: sizeof(sb_model_metadata) it knows */
    uint32_t input_count;
    uint32_t output_count;
    uint32_t reserved;
    const char *platform;        /* e.g. "switchboard-linear", "xgboost" */
    const sb_tensor_desc *inputs;
    const sb_tensor_desc *outputs;
} sb_model_metadata;

/* A concrete tensor of one inference. Inputs are borrowed for the call and read only;
 * outputs point to host memory of exactly `byte_size` bytes that the backend fills. */
typedef struct SB_FROZEN sb_tensor {
    const char *name;
    int32_t datatype;
    uint32_t rank;
    int64_t shape[SB_MAX_RANK];
    void *data;
    uint64_t byte_size;
} sb_tensor;

/* How an asynchronous inference reports that it finished: call `complete` exactly once,
 * from any thread, after the outputs are written (or with an error, whose ownership
 * transfers to the host). Until then the inputs and outputs of the call stay valid. */
typedef struct SB_FROZEN sb_completion {
    void (*complete)(sb_completion_context *context, sb_error *error);
    sb_completion_context *context;  /* owned by the host until `complete` is called */
} sb_completion;

/* Capability flags. They must agree with the functions of `sb_backend`. */
#define SB_BACKEND_CAP_CONCURRENT_INFER (1u << 0) /* infer may run concurrently on one model */
#define SB_BACKEND_CAP_ASYNC_INFER      (1u << 1) /* infer_async is non-NULL: the backend waits on
                                                     I/O and completes through sb_completion */
#define SB_BACKEND_CAP_INLINE_INFER     (1u << 2) /* infer is short and never blocks (no I/O, no
                                                     locks held for long): the host may call it on
                                                     the request's own thread instead of a
                                                     blocking-pool thread */

/* One backend. Owned by the plugin. */
typedef struct sb_backend {
    uint32_t struct_size;          /* sizeof(sb_backend) as the plugin knows it */
    uint32_t abi_minor;            /* the plugin's SB_BACKEND_ABI_MINOR */
    const char *name;              /* [a-z0-9][a-z0-9_-]{0,62}; owned by the plugin */
    const char *version;           /* e.g. "1"; owned by the plugin */
    uint64_t capabilities;         /* SB_BACKEND_CAP_* */

    /* Makes the backend's state from its JSON config ("{}" if none; borrowed for the
     * call). On success ownership of *out_backend transfers to the host, which frees it
     * with `finalize`. Thread-safe. */
    sb_error *(*initialize)(const sb_host_api *host, const char *config_json, sb_backend_state **out_backend);
    /* Frees the backend's state; every model of it was unloaded before. Called once. */
    void (*finalize)(sb_backend_state *backend);

    /* Loads a model from `model_dir` (an absolute path inside a configured plugin folder;
     * borrowed for the call) with its JSON config (borrowed for the call). On success
     * ownership of *out_model transfers to the host, which frees it with `model_unload`.
     * Thread-safe. */
    sb_error *(*model_load)(sb_backend_state *backend, const char *model_dir, const char *config_json, sb_model **out_model);
    /* Frees a model; no inference of it is running. Called once. */
    void (*model_unload)(sb_model *model);
    /* Describes the model into `out` (owned by the host, valid for the call; see
     * sb_model_metadata). Thread-safe. */
    sb_error *(*model_metadata)(sb_model *model, sb_model_metadata *out);

    /* Runs one inference synchronously. NULL when only infer_async is offered. Inputs are
     * borrowed for the call; outputs are owned by the host, valid for the call. Thread-safe
     * with SB_BACKEND_CAP_CONCURRENT_INFER; otherwise serialised by the host. The host
     * calls it on a thread that may block, unless SB_BACKEND_CAP_INLINE_INFER is set. */
    sb_error *(*infer)(sb_model *model, const sb_tensor *inputs, uint32_t input_count,
                       sb_tensor *outputs, uint32_t output_count);
    /* Starts one inference and returns at once (NULL = started; `completion` is then
     * called exactly once). Inputs and outputs stay valid until `completion` is called.
     * An error returned here means it did not start (and `completion` is never called).
     * Non-NULL exactly when SB_BACKEND_CAP_ASYNC_INFER. Thread-safe. */
    sb_error *(*infer_async)(sb_model *model, const sb_tensor *inputs, uint32_t input_count,
                             sb_tensor *outputs, uint32_t output_count, sb_completion completion);
} sb_backend;

/* What the entry point returns. Owned by the plugin. */
typedef struct sb_backend_library {
    uint32_t struct_size;              /* sizeof(sb_backend_library) as the plugin knows it */
    uint32_t abi_major;                /* SB_BACKEND_ABI_MAJOR */
    uint32_t abi_minor;                /* SB_BACKEND_ABI_MINOR */
    uint32_t backend_count;            /* >= 1 */
    const sb_backend *const *backends; /* backend_count tables; owned by the plugin */
    /* NULL for plugins in C, Rust, ...; for Swift plugins the toolchain tag (the host
     * refuses a tag other than its own). Owned by the plugin. */
    const char *build_tag;
} sb_backend_library;

/* The entry point. `host` is owned by the host, for the life of the process. Returns the
 * library (owned by the plugin), or NULL if the plugin cannot work with this host (it may
 * log why). Called once. */
SB_EXPORT const sb_backend_library *switchboard_backend_library_v2(const sb_host_api *host);

/* The entry point's type, for hosts that look it up with dlsym. */
typedef const sb_backend_library *(*sb_backend_library_entry)(const sb_host_api *host);

#ifdef __cplusplus
}
#endif

#endif /* SWITCHBOARD_BACKEND_H */
