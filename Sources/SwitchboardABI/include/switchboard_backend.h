/*
 * Switchboard model-backend plugin ABI, major version 1.
 *
 * A backend turns named input tensors into named output tensors, like the Open Inference
 * Protocol (KServe V2). A backend library exports exactly one symbol,
 * `switchboard_backend_library_v1`, returning a table of one or more backends.
 *
 * The rules of the policy ABI (switchboard_policy.h) hold here too: growing structs start
 * with `struct_size` and only append fields; fallible functions return `sb_error *`
 * (NULL = success) made with `host->error_new`; nothing unwinds across the boundary; no
 * memory allocated by one side is freed by the other; libraries are never unloaded.
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
 */
#ifndef SWITCHBOARD_BACKEND_H
#define SWITCHBOARD_BACKEND_H

#include "switchboard_policy.h" /* sb_error, sb_host_api, error codes, log levels */

#ifdef __cplusplus
extern "C" {
#endif

#define SB_BACKEND_ABI_MAJOR 1
#define SB_BACKEND_ABI_MINOR 0

/* The only symbol a backend library exports. */
#define SB_BACKEND_ENTRY_SYMBOL "switchboard_backend_library_v1"

/* The most dimensions a tensor has. */
#define SB_MAX_RANK 8

/* Tensor element types, named as in the Open Inference Protocol. */
typedef enum sb_datatype {
    SB_DATATYPE_BOOL = 1,  /* "BOOL", one byte, 0 or 1 */
    SB_DATATYPE_INT32 = 2, /* "INT32" */
    SB_DATATYPE_INT64 = 3, /* "INT64" */
    SB_DATATYPE_FP32 = 4,  /* "FP32" */
    SB_DATATYPE_FP64 = 5   /* "FP64" */
} sb_datatype;

/* A declared input or output of a model. */
typedef struct sb_tensor_desc {
    const char *name;            /* [A-Za-z0-9_.-]{1,63} */
    int32_t datatype;            /* sb_datatype */
    uint32_t rank;               /* 1..SB_MAX_RANK */
    int64_t shape[SB_MAX_RANK];  /* rank sizes, each > 0 or -1 (any size: the batch) */
} sb_tensor_desc;

/* What a loaded model takes and gives (Open Inference Protocol model metadata).
 * Filled by `model_metadata`; the pointers are owned by the model and stay valid and
 * unchanged until `model_unload`. */
typedef struct sb_model_metadata {
    uint32_t struct_size;        /* set by the host: sizeof(sb_model_metadata) it knows */
    uint32_t input_count;
    uint32_t output_count;
    uint32_t reserved;
    const char *platform;        /* e.g. "switchboard-linear", "xgboost" */
    const sb_tensor_desc *inputs;
    const sb_tensor_desc *outputs;
} sb_model_metadata;

/* A concrete tensor of one `infer` call. Inputs are borrowed for the call and read only;
 * outputs point to host memory of exactly `byte_size` bytes that the backend fills. */
typedef struct sb_tensor {
    const char *name;
    int32_t datatype;
    uint32_t rank;
    int64_t shape[SB_MAX_RANK];
    void *data;
    uint64_t byte_size;
} sb_tensor;

/* How an asynchronous inference reports that it finished. Call `complete` exactly once,
 * from any thread, after the outputs are written (or with an error). Until then the
 * inputs and outputs of the call stay valid. */
typedef struct sb_completion {
    void (*complete)(void *host_context, sb_error *error);
    void *host_context;
} sb_completion;

/* Capability flags. They must agree with the functions of `sb_backend_v1`. */
#define SB_BACKEND_CAP_CONCURRENT_INFER (1u << 0) /* infer may run concurrently on one model */
#define SB_BACKEND_CAP_ASYNC_INFER      (1u << 1) /* infer_async is non-NULL: the backend waits on
                                                     I/O and completes through sb_completion */
#define SB_BACKEND_CAP_INLINE_INFER     (1u << 2) /* infer is short and never blocks (no I/O, no
                                                     locks held for long): the host may call it on
                                                     the request's own thread instead of a
                                                     blocking-pool thread */

/* One backend. Owned by the plugin: constant for the life of the process. */
typedef struct sb_backend_v1 {
    uint32_t struct_size;          /* sizeof(sb_backend_v1) as the plugin knows it */
    uint32_t abi_minor;            /* the plugin's SB_BACKEND_ABI_MINOR */
    const char *name;              /* [a-z0-9][a-z0-9_-]{0,62}, owned by the plugin */
    const char *version;           /* e.g. "1" */
    uint64_t capabilities;         /* SB_BACKEND_CAP_* */

    /* Creates the backend's state from its JSON config ("{}" if none; borrowed).
     * `host` stays valid for the life of the process. */
    sb_error *(*initialize)(const sb_host_api *host, const char *config_json, void **out_backend);
    /* Frees the backend's state; every model of it was unloaded before. */
    void (*finalize)(void *backend);

    /* Loads a model from `model_dir` (an absolute path inside a configured plugin folder)
     * with its JSON config (borrowed). Thread-safe. */
    sb_error *(*model_load)(void *backend, const char *model_dir, const char *config_json, void **out_model);
    /* Frees a model; no inference of it is running. */
    void (*model_unload)(void *model);
    /* Describes the model into `out` (host memory; see sb_model_metadata). */
    sb_error *(*model_metadata)(void *model, sb_model_metadata *out);

    /* Runs one inference synchronously. NULL when only infer_async is offered. Called
     * concurrently only with SB_BACKEND_CAP_CONCURRENT_INFER; otherwise the host
     * serialises calls per model. The host calls it on a thread that may block, unless
     * SB_BACKEND_CAP_INLINE_INFER is set. */
    sb_error *(*infer)(void *model, const sb_tensor *inputs, uint32_t input_count,
                       sb_tensor *outputs, uint32_t output_count);
    /* Starts one inference and returns at once (NULL = started; `completion` is then
     * called exactly once). An error returned here means it did not start (and
     * `completion` is never called). Non-NULL exactly when SB_BACKEND_CAP_ASYNC_INFER. */
    sb_error *(*infer_async)(void *model, const sb_tensor *inputs, uint32_t input_count,
                             sb_tensor *outputs, uint32_t output_count, sb_completion completion);
} sb_backend_v1;

/* The table a backend library returns. Owned by the plugin. */
typedef struct sb_backend_library_v1 {
    uint32_t struct_size;              /* sizeof(sb_backend_library_v1) as the plugin knows it */
    uint32_t abi_major;                /* SB_BACKEND_ABI_MAJOR */
    uint32_t abi_minor;                /* SB_BACKEND_ABI_MINOR */
    uint32_t backend_count;
    const sb_backend_v1 *const *backends;
} sb_backend_library_v1;

/* The entry symbol's type. */
typedef const sb_backend_library_v1 *(*sb_backend_library_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* SWITCHBOARD_BACKEND_H */
