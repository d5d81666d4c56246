/*
 * A model-backend library that is refused at load, selected with -D flags (the tests
 * compile each variant and check the host's message):
 *   -DFOREIGN_TAG    declares a Swift build tag of another toolchain
 *   -DWRONG_MAJOR    exports switchboard_backend_library_v1 instead (a backend of the old major)
 * Its one backend is never started.
 */
#include "switchboard_backend.h"

static sb_error *initialize(const sb_host_api *host, const char *config_json, sb_backend_state **out) {
    (void)config_json; (void)out;
    return host->error_new(host->host_context, SB_ERROR_UNAVAILABLE, "never started");
}
static void finalize(sb_backend_state *backend) { (void)backend; }
static sb_error *model_load(sb_backend_state *b, const char *dir, const char *config, sb_model **out) {
    (void)b; (void)dir; (void)config; (void)out;
    return 0;
}
static void model_unload(sb_model *model) { (void)model; }
static sb_error *model_metadata(sb_model *model, sb_model_metadata *out) { (void)model; (void)out; return 0; }
static sb_error *infer(sb_model *m, const sb_tensor *in, uint32_t n, sb_tensor *out, uint32_t k) {
    (void)m; (void)in; (void)n; (void)out; (void)k;
    return 0;
}

static const sb_backend backend = {
    .struct_size = sizeof(sb_backend), .abi_minor = SB_BACKEND_ABI_MINOR, .name = "fixture", .version = "1",
    .capabilities = 0, .initialize = initialize, .finalize = finalize, .model_load = model_load,
    .model_unload = model_unload, .model_metadata = model_metadata, .infer = infer, .infer_async = 0,
};
static const sb_backend *const backends[] = {&backend};

static const sb_backend_library library = {
    .struct_size = sizeof(sb_backend_library), .abi_major = SB_BACKEND_ABI_MAJOR, .abi_minor = SB_BACKEND_ABI_MINOR,
    .backend_count = 1, .backends = backends,
#ifdef FOREIGN_TAG
    .build_tag = "swift-0.1-x86_64-linux",
#else
    .build_tag = 0,
#endif
};

#ifdef WRONG_MAJOR
__attribute__((visibility("default")))
const sb_backend_library *switchboard_backend_library_v1(void) { return &library; }
#else
const sb_backend_library *switchboard_backend_library_v2(const sb_host_api *host) { (void)host; return &library; }
#endif
