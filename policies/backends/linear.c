/*
 * The `linear` model backend: logistic or softmax regression from a JSON weights file,
 * through the Switchboard model-backend ABI v2 (switchboard_backend.h).
 *
 * A model folder holds `model.json` (or the file named by the model config's "file"):
 *   {"link": "softmax" | "logistic", "features": [d names], "classes": [k names],
 *    "weights": [[d numbers] x k], "bias": [k numbers]}
 * ("logistic" has one row of weights and two classes: negative, positive.)
 * Input:  "input" FP32 [-1, d] (one row per example, features in the declared order).
 * Outputs: "probabilities" FP32 [-1, k] and "class" INT64 [-1] (the most probable class).
 * Inference is pure and takes microseconds: concurrent and inline calls are allowed.
 *
 * Build: cc -shared -fPIC -fvisibility=hidden -O2 -I Sources/SwitchboardABI/include \
 *          -o policies/liblinear_backend.so policies/backends/linear.c -lcjson -lm
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchboard_backend.h"

#define MAX_DIM 4096

struct sb_backend_state {
    const sb_host_api *host;
};
typedef struct sb_backend_state backend;

struct sb_model {
    const sb_host_api *host;
    int softmax;        /* 1: softmax over k classes; 0: logistic (k = 2, one row of weights) */
    uint32_t d, k, rows;
    float *weights;     /* rows x d */
    float *bias;        /* rows */
    sb_tensor_desc inputs[1];
    sb_tensor_desc outputs[2];
};
typedef struct sb_model model;

static sb_error *fail(const sb_host_api *host, sb_error_code code, const char *format, const char *detail) {
    char message[4608];
    snprintf(message, sizeof message, format, detail ? detail : "");
    return host->error_new(host->host_context, code, message);
}

static sb_error *initialize(const sb_host_api *host, const char *config_json, sb_backend_state **out_backend) {
    (void)config_json;
    backend *b = calloc(1, sizeof *b);
    if (!b) return fail(host, SB_ERROR_INTERNAL, "out of memory%s", NULL);
    b->host = host;
    *out_backend = b;
    return NULL;
}

static void finalize(sb_backend_state *b) { free(b); }

static char *read_file(const char *path, long max_bytes) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && size <= max_bytes && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
            if (fread(text, 1, (size_t)size, f) == (size_t)size) {
                text[size] = 0;
            } else {
                free(text);
                text = NULL;
            }
        }
    }
    fclose(f);
    return text;
}

/* Reads `count` numbers from a JSON array into `out`; 0 on success. */
static int read_numbers(const cJSON *array, uint32_t count, float *out) {
    if (!cJSON_IsArray(array) || (uint32_t)cJSON_GetArraySize(array) != count) return -1;
    uint32_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) return -1;
        out[i++] = (float)item->valuedouble;
    }
    return 0;
}

static void model_unload(sb_model *m) {
    model *mo = m;
    if (!mo) return;
    free(mo->weights);
    free(mo->bias);
    free(mo);
}

static sb_error *model_load(sb_backend_state *bp, const char *model_dir, const char *config_json, sb_model **out_model) {
    const sb_host_api *host = ((backend *)bp)->host;
    const char *file = "model.json";
    cJSON *config = cJSON_Parse(config_json ? config_json : "{}");
    if (!config || !cJSON_IsObject(config)) {
        cJSON_Delete(config);
        return fail(host, SB_ERROR_INVALID_CONFIG, "the model config is not a JSON object%s", NULL);
    }
    const cJSON *file_item = cJSON_GetObjectItemCaseSensitive(config, "file");
    char file_name[256];
    if (file_item) {
        if (!cJSON_IsString(file_item) || !file_item->valuestring[0] || strchr(file_item->valuestring, '/') ||
            strlen(file_item->valuestring) >= sizeof file_name || file_item->valuestring[0] == '.') {
            cJSON_Delete(config);
            return fail(host, SB_ERROR_INVALID_CONFIG, "config field 'file' must be a plain file name in the model folder%s", NULL);
        }
        file = file_item->valuestring;
    }
    snprintf(file_name, sizeof file_name, "%s", file);
    cJSON_Delete(config);

    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", model_dir, file_name) >= (int)sizeof path)
        return fail(host, SB_ERROR_INVALID_CONFIG, "the model path is too long%s", NULL);
    char *text = read_file(path, 64L << 20);
    if (!text) return fail(host, SB_ERROR_INVALID_CONFIG, "cannot read the weights file %s", path);
    cJSON *json = cJSON_Parse(text);
    free(text);
    if (!json) return fail(host, SB_ERROR_INVALID_CONFIG, "the weights file %s is not valid JSON", path);

    model *m = calloc(1, sizeof *m);
    sb_error *error = NULL;
    if (!m) { error = fail(host, SB_ERROR_INTERNAL, "out of memory%s", NULL); goto done; }
    m->host = host;
    const cJSON *link = cJSON_GetObjectItemCaseSensitive(json, "link");
    const cJSON *features = cJSON_GetObjectItemCaseSensitive(json, "features");
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(json, "classes");
    const cJSON *weights = cJSON_GetObjectItemCaseSensitive(json, "weights");
    const cJSON *bias = cJSON_GetObjectItemCaseSensitive(json, "bias");
    if (!cJSON_IsString(link) || (strcmp(link->valuestring, "softmax") && strcmp(link->valuestring, "logistic"))) {
        error = fail(host, SB_ERROR_INVALID_CONFIG, "field 'link' must be \"softmax\" or \"logistic\"%s", NULL);
        goto done;
    }
    m->softmax = strcmp(link->valuestring, "softmax") == 0;
    if (!cJSON_IsArray(features) || cJSON_GetArraySize(features) < 1 || cJSON_GetArraySize(features) > MAX_DIM) {
        error = fail(host, SB_ERROR_INVALID_CONFIG, "field 'features' must list 1 to 4096 feature names%s", NULL);
        goto done;
    }
    m->d = (uint32_t)cJSON_GetArraySize(features);
    if (!cJSON_IsArray(classes) || cJSON_GetArraySize(classes) < 2 || cJSON_GetArraySize(classes) > MAX_DIM ||
        (!m->softmax && cJSON_GetArraySize(classes) != 2)) {
        error = fail(host, SB_ERROR_INVALID_CONFIG, "field 'classes' must list at least 2 class names (exactly 2 for \"logistic\")%s", NULL);
        goto done;
    }
    m->k = (uint32_t)cJSON_GetArraySize(classes);
    m->rows = m->softmax ? m->k : 1;
    m->weights = calloc((size_t)m->rows * m->d, sizeof(float));
    m->bias = calloc(m->rows, sizeof(float));
    if (!m->weights || !m->bias) { error = fail(host, SB_ERROR_INTERNAL, "out of memory%s", NULL); goto done; }
    if (!cJSON_IsArray(weights) || (uint32_t)cJSON_GetArraySize(weights) != m->rows) {
        error = fail(host, SB_ERROR_INVALID_CONFIG, "field 'weights' must have one row per class (one row for \"logistic\")%s", NULL);
        goto done;
    }
    uint32_t r = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, weights) {
        if (read_numbers(row, m->d, m->weights + (size_t)r * m->d)) {
            error = fail(host, SB_ERROR_INVALID_CONFIG, "every row of 'weights' must hold one finite number per feature%s", NULL);
            goto done;
        }
        r++;
    }
    if (read_numbers(bias, m->rows, m->bias)) {
        error = fail(host, SB_ERROR_INVALID_CONFIG, "field 'bias' must hold one finite number per row of weights%s", NULL);
        goto done;
    }
    m->inputs[0] = (sb_tensor_desc){.name = "input", .datatype = SB_DATATYPE_FP32, .rank = 2, .shape = {-1, m->d}};
    m->outputs[0] = (sb_tensor_desc){.name = "probabilities", .datatype = SB_DATATYPE_FP32, .rank = 2, .shape = {-1, m->k}};
    m->outputs[1] = (sb_tensor_desc){.name = "class", .datatype = SB_DATATYPE_INT64, .rank = 1, .shape = {-1}};
done:
    cJSON_Delete(json);
    if (error) {
        model_unload(m);
        return error;
    }
    *out_model = m;
    return NULL;
}

static sb_error *model_metadata(sb_model *mp, sb_model_metadata *out) {
    model *m = mp;
    out->input_count = 1;
    out->output_count = 2;
    out->platform = "switchboard-linear";
    out->inputs = m->inputs;
    out->outputs = m->outputs;
    return NULL;
}

static sb_error *infer(sb_model *mp, const sb_tensor *inputs, uint32_t input_count, sb_tensor *outputs, uint32_t output_count) {
    const model *m = mp;
    if (input_count != 1 || output_count != 2)
        return fail(m->host, SB_ERROR_INVALID_ARGUMENT, "expected 1 input and 2 outputs%s", NULL);
    const float *x = inputs[0].data;
    float *probabilities = outputs[0].data;
    int64_t *label = outputs[1].data;
    int64_t n = inputs[0].shape[0];
    for (int64_t i = 0; i < n; i++) {
        const float *row = x + i * m->d;
        float *p = probabilities + i * m->k;
        if (m->softmax) {
            double logits[MAX_DIM], top = -INFINITY, sum = 0;
            for (uint32_t c = 0; c < m->k; c++) {
                double z = m->bias[c];
                for (uint32_t j = 0; j < m->d; j++) z += (double)m->weights[(size_t)c * m->d + j] * row[j];
                logits[c] = z;
                if (z > top) top = z;
            }
            for (uint32_t c = 0; c < m->k; c++) sum += (logits[c] = exp(logits[c] - top));
            for (uint32_t c = 0; c < m->k; c++) p[c] = (float)(logits[c] / sum);
        } else {
            double z = m->bias[0];
            for (uint32_t j = 0; j < m->d; j++) z += (double)m->weights[j] * row[j];
            double positive = 1.0 / (1.0 + exp(-z));
            p[0] = (float)(1.0 - positive);
            p[1] = (float)positive;
        }
        uint32_t best = 0;
        for (uint32_t c = 1; c < m->k; c++) if (p[c] > p[best]) best = c;
        label[i] = best;
    }
    return NULL;
}

static const sb_backend linear_backend = {
    .struct_size = sizeof(sb_backend),
    .abi_minor = SB_BACKEND_ABI_MINOR,
    .name = "linear",
    .version = "1",
    .capabilities = SB_BACKEND_CAP_CONCURRENT_INFER | SB_BACKEND_CAP_INLINE_INFER,
    .initialize = initialize,
    .finalize = finalize,
    .model_load = model_load,
    .model_unload = model_unload,
    .model_metadata = model_metadata,
    .infer = infer,
    .infer_async = NULL,
};

static const sb_backend *const backends[] = {&linear_backend};

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
