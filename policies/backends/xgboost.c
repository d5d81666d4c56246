/*
 * The `xgboost` model backend: a saved XGBoost model (Debian's libxgboost, C API), through
 * the Switchboard model-backend ABI v2 (switchboard_backend.h).
 *
 * A model folder holds `model.json` (or the file named by the model config's "file"), as
 * written by XGBoosterSaveModel / Booster.save_model.
 * Input:  "input" FP32 [-1, features] (features as trained).
 * Outputs for a multi-class model (num_class >= 2): "probabilities" FP32 [-1, num_class]
 *         and "class" INT64 [-1]; otherwise "prediction" FP32 [-1].
 * Calls are serialised per model by the host (no concurrent-infer claim) and run on a
 * blocking-pool thread (no inline claim): XGBoost may use several threads per call.
 *
 * Build: cc -shared -fPIC -fvisibility=hidden -O2 -I Sources/SwitchboardABI/include \
 *          -o policies/libxgboost_backend.so policies/backends/xgboost.c -lxgboost -lcjson
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "switchboard_backend.h"


struct sb_backend_state {
    const sb_host_api *host;
};
typedef struct sb_backend_state backend;

struct sb_model {
    const sb_host_api *host;
    BoosterHandle booster;
    uint64_t features;
    uint64_t classes;       /* >= 2: multi-class probabilities; 0: one value per row */
    sb_tensor_desc inputs[1];
    sb_tensor_desc outputs[2];
};
typedef struct sb_model model;

static sb_error *fail(const sb_host_api *host, sb_error_code code, const char *what, const char *detail) {
    char message[1024];
    snprintf(message, sizeof message, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return host->error_new(host->host_context, code, message);
}

static sb_error *initialize(const sb_host_api *host, const char *config_json, sb_backend_state **out_backend) {
    (void)config_json;
    backend *b = calloc(1, sizeof *b);
    if (!b) return fail(host, SB_ERROR_INTERNAL, "out of memory", NULL);
    b->host = host;
    *out_backend = b;
    return NULL;
}

static void finalize(sb_backend_state *b) { free(b); }

static void model_unload(sb_model *m) {
    model *mo = m;
    if (!mo) return;
    if (mo->booster) XGBoosterFree(mo->booster);
    free(mo);
}

/* num_class from the booster's JSON config (learner.learner_model_param.num_class). */
static uint64_t read_num_class(BoosterHandle booster) {
    bst_ulong length = 0;
    const char *text = NULL;
    if (XGBoosterSaveJsonConfig(booster, &length, &text) != 0 || !text) return 0;
    cJSON *config = cJSON_ParseWithLength(text, (size_t)length);
    uint64_t classes = 0;
    const cJSON *learner = cJSON_GetObjectItemCaseSensitive(config, "learner");
    const cJSON *param = cJSON_GetObjectItemCaseSensitive(learner, "learner_model_param");
    const cJSON *num_class = cJSON_GetObjectItemCaseSensitive(param, "num_class");
    if (cJSON_IsString(num_class)) classes = strtoull(num_class->valuestring, NULL, 10);
    cJSON_Delete(config);
    return classes >= 2 ? classes : 0;
}

static sb_error *model_load(sb_backend_state *bp, const char *model_dir, const char *config_json, sb_model **out_model) {
    const sb_host_api *host = ((backend *)bp)->host;
    char file_name[256] = "model.json";
    cJSON *config = cJSON_Parse(config_json ? config_json : "{}");
    if (!config || !cJSON_IsObject(config)) {
        cJSON_Delete(config);
        return fail(host, SB_ERROR_INVALID_CONFIG, "the model config is not a JSON object", NULL);
    }
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(config, "file");
    if (file) {
        if (!cJSON_IsString(file) || !file->valuestring[0] || strchr(file->valuestring, '/') ||
            file->valuestring[0] == '.' || strlen(file->valuestring) >= sizeof file_name) {
            cJSON_Delete(config);
            return fail(host, SB_ERROR_INVALID_CONFIG, "config field 'file' must be a plain file name in the model folder", NULL);
        }
        snprintf(file_name, sizeof file_name, "%s", file->valuestring);
    }
    cJSON_Delete(config);

    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", model_dir, file_name) >= (int)sizeof path)
        return fail(host, SB_ERROR_INVALID_CONFIG, "the model path is too long", NULL);
    FILE *probe = fopen(path, "rb");
    if (!probe) return fail(host, SB_ERROR_INVALID_CONFIG, "cannot read the model file", path);
    fclose(probe);

    model *m = calloc(1, sizeof *m);
    if (!m) return fail(host, SB_ERROR_INTERNAL, "out of memory", NULL);
    m->host = host;
    bst_ulong features = 0;
    if (XGBoosterCreate(NULL, 0, &m->booster) != 0 || XGBoosterLoadModel(m->booster, path) != 0 ||
        XGBoosterGetNumFeature(m->booster, &features) != 0) {
        sb_error *error = fail(host, SB_ERROR_INVALID_CONFIG, "XGBoost cannot load the model", XGBGetLastError());
        model_unload(m);
        return error;
    }
    if (features < 1 || features > 1 << 20) {
        model_unload(m);
        return fail(host, SB_ERROR_INVALID_CONFIG, "the model declares no features", NULL);
    }
    XGBoosterSetParam(m->booster, "nthread", "1");  /* one request, one thread: replicas scale out */
    m->features = features;
    m->classes = read_num_class(m->booster);
    m->inputs[0] = (sb_tensor_desc){.name = "input", .datatype = SB_DATATYPE_FP32, .rank = 2, .shape = {-1, (int64_t)features}};
    if (m->classes) {
        m->outputs[0] = (sb_tensor_desc){.name = "probabilities", .datatype = SB_DATATYPE_FP32, .rank = 2, .shape = {-1, (int64_t)m->classes}};
        m->outputs[1] = (sb_tensor_desc){.name = "class", .datatype = SB_DATATYPE_INT64, .rank = 1, .shape = {-1}};
    } else {
        m->outputs[0] = (sb_tensor_desc){.name = "prediction", .datatype = SB_DATATYPE_FP32, .rank = 1, .shape = {-1}};
    }
    *out_model = m;
    return NULL;
}

static sb_error *model_metadata(sb_model *mp, sb_model_metadata *out) {
    model *m = mp;
    out->input_count = 1;
    out->output_count = m->classes ? 2 : 1;
    out->platform = "xgboost";
    out->inputs = m->inputs;
    out->outputs = m->outputs;
    return NULL;
}

static sb_error *infer(sb_model *mp, const sb_tensor *inputs, uint32_t input_count, sb_tensor *outputs, uint32_t output_count) {
    const model *m = mp;
    if (input_count != 1 || output_count != (m->classes ? 2u : 1u))
        return fail(m->host, SB_ERROR_INVALID_ARGUMENT, "unexpected tensor counts", NULL);
    bst_ulong rows = (bst_ulong)inputs[0].shape[0];
    DMatrixHandle matrix = NULL;
    if (XGDMatrixCreateFromMat(inputs[0].data, rows, (bst_ulong)m->features, NAN, &matrix) != 0)
        return fail(m->host, SB_ERROR_INTERNAL, "XGBoost cannot take the input", XGBGetLastError());
    bst_ulong length = 0;
    const float *result = NULL;
    int status = XGBoosterPredict(m->booster, matrix, 0, 0, 0, &length, &result);
    sb_error *error = NULL;
    uint64_t expected = rows * (m->classes ? m->classes : 1);
    if (status != 0) {
        error = fail(m->host, SB_ERROR_INTERNAL, "XGBoost prediction failed", XGBGetLastError());
    } else if (length != expected) {
        error = fail(m->host, SB_ERROR_INTERNAL, "XGBoost returned an unexpected number of values", NULL);
    } else {
        memcpy(outputs[0].data, result, expected * sizeof(float));
        if (m->classes) {
            int64_t *label = outputs[1].data;
            for (bst_ulong i = 0; i < rows; i++) {
                const float *p = result + i * m->classes;
                uint64_t best = 0;
                for (uint64_t c = 1; c < m->classes; c++) if (p[c] > p[best]) best = c;
                label[i] = (int64_t)best;
            }
        }
    }
    XGDMatrixFree(matrix);
    return error;
}

static const sb_backend xgboost_backend = {
    .struct_size = sizeof(sb_backend),
    .abi_minor = SB_BACKEND_ABI_MINOR,
    .name = "xgboost",
    .version = "1",
    .capabilities = 0,
    .initialize = initialize,
    .finalize = finalize,
    .model_load = model_load,
    .model_unload = model_unload,
    .model_metadata = model_metadata,
    .infer = infer,
    .infer_async = NULL,
};

static const sb_backend *const backends[] = {&xgboost_backend};

static const sb_backend_library library = {
    .struct_size = sizeof(sb_backend_library),
    .abi_major = SB_BACKEND_ABI_MAJOR,
    .abi_minor = SB_BACKEND_ABI_MINOR,
    .backend_count = 1,
    .backends = backends,
    .build_tag = NULL,
};

const sb_backend_library *switchboard_backend_library_v2(const sb_host_api *host) {
    (void)host;
    return &library;
}
