/*
 * The `oip-http` model backend: forwards inference to any server that speaks the Open
 * Inference Protocol (KServe V2) over REST, without blocking, through the Switchboard
 * model-backend ABI v2 (switchboard_backend.h).
 *
 * Model config: {"url": "http://host:port", "model": "name", "timeout_ms": 10000}.
 * model_load reads GET {url}/v2/models/{model} for the inputs and outputs, and GET {url}/v2
 * for the server's extensions (blocking: the host loads models on a blocking thread).
 * infer_async posts {url}/v2/models/{model}/infer and returns at once: one worker thread
 * per backend drives every request with libcurl's multi interface and calls the host's
 * completion when the answer is in the outputs. Where the server lists the
 * "binary_tensor_data" extension, tensors go both ways as binary data (the JSON header,
 * then the raw little-endian bytes; Inference-Header-Content-Length says where the JSON
 * ends); otherwise as JSON.
 * Capabilities: asynchronous and concurrent inference; no synchronous `infer`.
 *
 * Build: cc -shared -fPIC -fvisibility=hidden -O2 -I Sources/SwitchboardABI/include \
 *          -o policies/liboip_http_backend.so policies/backends/oip_http.c -lcurl -lcjson -lpthread
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "switchboard_backend.h"

#define MAX_TENSORS 64

typedef struct buffer {
    char *data;
    size_t length, capacity;
} buffer;

struct sb_model {
    sb_backend_state *backend;
    char *infer_url;
    long timeout_ms;
    int binary;          /* the server speaks the binary tensor data extension */
    uint32_t input_count, output_count;
    sb_tensor_desc inputs[MAX_TENSORS];
    sb_tensor_desc outputs[MAX_TENSORS];
};
typedef struct sb_model model;

typedef struct job {
    struct job *next;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t body_length;
    buffer response;
    long header_length;  /* the answer's Inference-Header-Content-Length; -1: all JSON */
    const model *model;
    sb_tensor *outputs;
    uint32_t output_count;
    sb_completion completion;
} job;

struct sb_backend_state {
    const sb_host_api *host;
    CURLM *multi;
    pthread_t worker;
    pthread_mutex_t lock;
    job *queue;          /* submitted, not yet handed to curl */
    int stopping;
};
typedef struct sb_backend_state backend;

static sb_error *fail(const sb_host_api *host, sb_error_code code, const char *what, const char *detail) {
    char message[4096];
    snprintf(message, sizeof message, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return host->error_new(host->host_context, code, message);
}

static size_t collect(char *data, size_t size, size_t count, void *user) {
    buffer *b = user;
    size_t n = size * count;
    if (b->length + n + 1 > b->capacity) {
        size_t capacity = (b->capacity ? b->capacity * 2 : 4096);
        while (capacity < b->length + n + 1) capacity *= 2;
        if (capacity > (64u << 20)) return 0;  /* refuse answers over 64 MiB */
        char *grown = realloc(b->data, capacity);
        if (!grown) return 0;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, data, n);
    b->length += n;
    b->data[b->length] = 0;
    return n;
}

static const char *const datatype_names[] = {NULL, "BOOL", "INT32", "INT64", "FP32", "FP64"};

static int datatype_from_name(const char *name) {
    for (int i = 1; i <= 5; i++) if (strcmp(name, datatype_names[i]) == 0) return i;
    return 0;
}

/* ---- completion of a request, on the worker thread ---- */

/* Reads an answer's Inference-Header-Content-Length header into the job. */
static size_t read_header(char *line, size_t size, size_t count, void *user) {
    job *j = user;
    size_t n = size * count;
    static const char name[] = "inference-header-content-length:";
    size_t k = sizeof name - 1;
    if (n > k && strncasecmp(line, name, k) == 0) {
        char value[32] = {0};
        size_t v = n - k < sizeof value - 1 ? n - k : sizeof value - 1;
        memcpy(value, line + k, v);
        char *end = NULL;
        long parsed = strtol(value, &end, 10);
        j->header_length = end != value && parsed > 0 ? parsed : -1;
    }
    return n;
}

/* Copies an output sent as binary data (`bytes` of `size`) into the host's tensor. */
static sb_error *write_binary_output(const model *m, sb_tensor *out, const uint8_t *bytes, uint64_t size) {
    if (size != out->byte_size) return fail(m->backend->host, SB_ERROR_INTERNAL, "the server's binary output has the wrong size", out->name);
    if (out->datatype == SB_DATATYPE_BOOL) {
        for (uint64_t i = 0; i < size; i++) ((uint8_t *)out->data)[i] = bytes[i] != 0;
    } else {
        memcpy(out->data, bytes, size);
    }
    return NULL;
}

static sb_error *write_output(const model *m, sb_tensor *out, const cJSON *tensor) {
    const sb_host_api *host = m->backend->host;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(tensor, "data");
    size_t width = out->datatype == SB_DATATYPE_BOOL ? 1 : out->datatype == SB_DATATYPE_INT32 || out->datatype == SB_DATATYPE_FP32 ? 4 : 8;
    size_t count = (size_t)(out->byte_size / width);
    if (!cJSON_IsArray(data) || (size_t)cJSON_GetArraySize(data) != count)
        return fail(host, SB_ERROR_INTERNAL, "the server's output has the wrong number of values", out->name);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, data) {
        double v = cJSON_IsBool(item) ? (cJSON_IsTrue(item) ? 1 : 0) : item->valuedouble;
        if (!cJSON_IsNumber(item) && !cJSON_IsBool(item)) return fail(host, SB_ERROR_INTERNAL, "the server's output holds a non-number", out->name);
        switch (out->datatype) {
        case SB_DATATYPE_BOOL: ((uint8_t *)out->data)[i] = v != 0; break;
        case SB_DATATYPE_INT32: ((int32_t *)out->data)[i] = (int32_t)v; break;
        case SB_DATATYPE_INT64: ((int64_t *)out->data)[i] = (int64_t)v; break;
        case SB_DATATYPE_FP32: ((float *)out->data)[i] = (float)v; break;
        default: ((double *)out->data)[i] = v; break;
        }
        i++;
    }
    return NULL;
}

static sb_error *read_answer(job *j, CURLcode code) {
    const model *m = j->model;
    const sb_host_api *host = m->backend->host;
    if (code != CURLE_OK) return fail(host, SB_ERROR_INTERNAL, "the inference server did not answer", curl_easy_strerror(code));
    long status = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        char detail[400];
        snprintf(detail, sizeof detail, "HTTP %ld: %.300s", status, j->response.data ? j->response.data : "");
        return fail(host, SB_ERROR_INTERNAL, "the inference server refused the request", detail);
    }
    size_t json_length = j->response.length;
    if (j->header_length > 0) {
        if ((size_t)j->header_length > j->response.length)
            return fail(host, SB_ERROR_INTERNAL, "the inference server's Inference-Header-Content-Length passes its answer", NULL);
        json_length = (size_t)j->header_length;
    }
    cJSON *answer = cJSON_ParseWithLength(j->response.data ? j->response.data : "", json_length);
    const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(answer, "outputs");
    sb_error *error = NULL;
    if (!cJSON_IsArray(outputs)) error = fail(host, SB_ERROR_INTERNAL, "the inference server's answer has no outputs", NULL);
    for (uint32_t o = 0; !error && o < j->output_count; o++) {
        const cJSON *found = NULL, *tensor;
        uint64_t offset = json_length, found_offset = 0, found_size = 0;
        int binary = 0;
        cJSON_ArrayForEach(tensor, outputs) {
            /* Binary outputs follow the JSON in the order the outputs are listed. */
            const cJSON *parameters = cJSON_GetObjectItemCaseSensitive(tensor, "parameters");
            const cJSON *size = cJSON_GetObjectItemCaseSensitive(parameters, "binary_data_size");
            int is_binary = cJSON_IsNumber(size) && size->valuedouble >= 0;
            uint64_t bytes = is_binary ? (uint64_t)size->valuedouble : 0;
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(tensor, "name");
            if (!found && cJSON_IsString(name) && strcmp(name->valuestring, j->outputs[o].name) == 0) {
                found = tensor;
                binary = is_binary;
                found_offset = offset;
                found_size = bytes;
            }
            offset += bytes;
        }
        if (!found) {
            error = fail(host, SB_ERROR_INTERNAL, "the inference server's answer lacks an output", j->outputs[o].name);
        } else if (binary) {
            error = found_offset + found_size > j->response.length
                        ? fail(host, SB_ERROR_INTERNAL, "the server's binary output passes the end of its answer", j->outputs[o].name)
                        : write_binary_output(m, &j->outputs[o], (const uint8_t *)j->response.data + found_offset, found_size);
        } else {
            error = write_output(m, &j->outputs[o], found);
        }
    }
    cJSON_Delete(answer);
    return error;
}

static void free_job(job *j) {
    if (j->easy) curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->headers);
    free(j->body);
    free(j->response.data);
    free(j);
}

static void *worker(void *arg) {
    backend *b = arg;
    int running = 0;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        job *ready = b->queue;
        b->queue = NULL;
        int stopping = b->stopping;
        pthread_mutex_unlock(&b->lock);
        for (job *j = ready, *next; j; j = next) {
            next = j->next;
            curl_multi_add_handle(b->multi, j->easy);
        }
        if (stopping && !ready && running == 0) break;
        curl_multi_perform(b->multi, &running);
        CURLMsg *message;
        int left;
        while ((message = curl_multi_info_read(b->multi, &left))) {
            if (message->msg != CURLMSG_DONE) continue;
            job *j = NULL;
            curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            CURLcode code = message->data.result;
            curl_multi_remove_handle(b->multi, j->easy);
            sb_error *error = read_answer(j, code);
            sb_completion completion = j->completion;
            free_job(j);
            completion.complete(completion.context, error);
        }
        curl_multi_poll(b->multi, NULL, 0, 1000, NULL);
    }
    return NULL;
}

/* ---- the ABI ---- */

static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static sb_error *initialize(const sb_host_api *host, const char *config_json, sb_backend_state **out_backend) {
    (void)config_json;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, global_init);
    backend *b = calloc(1, sizeof *b);
    if (!b) return fail(host, SB_ERROR_INTERNAL, "out of memory", NULL);
    b->host = host;
    b->multi = curl_multi_init();
    pthread_mutex_init(&b->lock, NULL);
    if (!b->multi || pthread_create(&b->worker, NULL, worker, b) != 0) {
        if (b->multi) curl_multi_cleanup(b->multi);
        free(b);
        return fail(host, SB_ERROR_INTERNAL, "cannot start the HTTP worker", NULL);
    }
    *out_backend = b;
    return NULL;
}

static void finalize(sb_backend_state *bp) {
    backend *b = bp;
    pthread_mutex_lock(&b->lock);
    b->stopping = 1;
    pthread_mutex_unlock(&b->lock);
    curl_multi_wakeup(b->multi);
    pthread_join(b->worker, NULL);
    curl_multi_cleanup(b->multi);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static void free_descs(sb_tensor_desc *descs, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) free((char *)descs[i].name);
}

static void model_unload(sb_model *mp) {
    model *m = mp;
    if (!m) return;
    free_descs(m->inputs, m->input_count);
    free_descs(m->outputs, m->output_count);
    free(m->infer_url);
    free(m);
}

/* Reads the "inputs" or "outputs" of V2 model metadata; 0 on success. */
static int read_descs(const cJSON *list, sb_tensor_desc *descs, uint32_t *count) {
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > MAX_TENSORS) return -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
        const cJSON *datatype = cJSON_GetObjectItemCaseSensitive(item, "datatype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
        if (!cJSON_IsString(name) || !cJSON_IsString(datatype) || !cJSON_IsArray(shape)) return -1;
        int type = datatype_from_name(datatype->valuestring);
        int rank = cJSON_GetArraySize(shape);
        if (!type || rank < 1 || rank > SB_MAX_RANK) return -1;
        sb_tensor_desc *d = &descs[*count];
        memset(d, 0, sizeof *d);
        d->datatype = type;
        d->rank = (uint32_t)rank;
        int axis = 0;
        const cJSON *size;
        cJSON_ArrayForEach(size, shape) {
            if (!cJSON_IsNumber(size) || (size->valuedouble < 1 && size->valuedouble != -1)) return -1;
            d->shape[axis++] = (int64_t)size->valuedouble;
        }
        d->name = strdup(name->valuestring);
        (*count)++;
    }
    return 0;
}

/* Whether GET {url}/v2 lists the "binary_tensor_data" extension (no: JSON tensors). */
static int server_speaks_binary(const char *url, long timeout_ms) {
    char server_url[2048];
    snprintf(server_url, sizeof server_url, "%s/v2", url);
    buffer answer = {0};
    CURL *easy = curl_easy_init();
    if (!easy) return 0;
    curl_easy_setopt(easy, CURLOPT_URL, server_url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    long status = 0;
    int binary = 0;
    if (curl_easy_perform(easy) == CURLE_OK && (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status), status == 200)) {
        cJSON *metadata = cJSON_ParseWithLength(answer.data ? answer.data : "", answer.length);
        const cJSON *extension;
        cJSON_ArrayForEach(extension, cJSON_GetObjectItemCaseSensitive(metadata, "extensions")) {
            if (cJSON_IsString(extension) && strcmp(extension->valuestring, "binary_tensor_data") == 0) binary = 1;
        }
        cJSON_Delete(metadata);
    }
    curl_easy_cleanup(easy);
    free(answer.data);
    return binary;
}

static sb_error *model_load(sb_backend_state *bp, const char *model_dir, const char *config_json, sb_model **out_model) {
    (void)model_dir;
    backend *b = bp;
    const sb_host_api *host = b->host;
    cJSON *config = cJSON_Parse(config_json ? config_json : "{}");
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(config, "url");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(config, "model");
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(config, "timeout_ms");
    if (!cJSON_IsString(url) || (strncmp(url->valuestring, "http://", 7) && strncmp(url->valuestring, "https://", 8)) ||
        !cJSON_IsString(name) || !name->valuestring[0] || strpbrk(name->valuestring, "/?#% ") ||
        (timeout && (!cJSON_IsNumber(timeout) || timeout->valuedouble < 1 || timeout->valuedouble > 600000))) {
        cJSON_Delete(config);
        return fail(host, SB_ERROR_INVALID_CONFIG,
                    "the model config needs \"url\" (http:// or https://), \"model\" (a model name) and optionally \"timeout_ms\" (1 to 600000)", NULL);
    }
    model *m = calloc(1, sizeof *m);
    char metadata_url[2048];
    snprintf(metadata_url, sizeof metadata_url, "%s/v2/models/%s", url->valuestring, name->valuestring);
    size_t length = strlen(metadata_url) + strlen("/infer") + 1;
    m->infer_url = malloc(length);
    snprintf(m->infer_url, length, "%s/infer", metadata_url);
    m->backend = b;
    m->timeout_ms = timeout ? (long)timeout->valuedouble : 10000;
    char url_text[1024];
    snprintf(url_text, sizeof url_text, "%s", url->valuestring);
    cJSON_Delete(config);

    buffer answer = {0};
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, metadata_url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, m->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    CURLcode code = curl_easy_perform(easy);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(easy);
    sb_error *error = NULL;
    if (code != CURLE_OK) {
        error = fail(host, SB_ERROR_INVALID_CONFIG, "cannot read the model metadata", curl_easy_strerror(code));
    } else if (status != 200) {
        char detail[2200];
        snprintf(detail, sizeof detail, "GET %s answered HTTP %ld", metadata_url, status);
        error = fail(host, SB_ERROR_INVALID_CONFIG, "cannot read the model metadata", detail);
    } else {
        cJSON *metadata = cJSON_ParseWithLength(answer.data ? answer.data : "", answer.length);
        if (read_descs(cJSON_GetObjectItemCaseSensitive(metadata, "inputs"), m->inputs, &m->input_count) ||
            read_descs(cJSON_GetObjectItemCaseSensitive(metadata, "outputs"), m->outputs, &m->output_count))
            error = fail(host, SB_ERROR_INVALID_CONFIG, "the server's model metadata is not valid Open Inference Protocol metadata", metadata_url);
        cJSON_Delete(metadata);
    }
    free(answer.data);
    if (error) {
        model_unload(m);
        return error;
    }
    m->binary = server_speaks_binary(url_text, m->timeout_ms);
    *out_model = m;
    return NULL;
}

static sb_error *model_metadata(sb_model *mp, sb_model_metadata *out) {
    model *m = mp;
    out->input_count = m->input_count;
    out->output_count = m->output_count;
    out->platform = "oip-http";
    out->inputs = m->inputs;
    out->outputs = m->outputs;
    return NULL;
}

/* An input as JSON: its data inline, or with `binary` only its size (the bytes follow the JSON). */
static cJSON *tensor_json(const sb_tensor *t, int binary) {
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "name", t->name);
    cJSON_AddStringToObject(item, "datatype", datatype_names[t->datatype]);
    cJSON *shape = cJSON_AddArrayToObject(item, "shape");
    size_t count = 1;
    for (uint32_t a = 0; a < t->rank; a++) {
        cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[a]));
        count *= (size_t)t->shape[a];
    }
    if (binary) {
        cJSON *parameters = cJSON_AddObjectToObject(item, "parameters");
        cJSON_AddNumberToObject(parameters, "binary_data_size", (double)t->byte_size);
        return item;
    }
    cJSON *data = cJSON_AddArrayToObject(item, "data");
    for (size_t i = 0; i < count; i++) {
        double v;
        switch (t->datatype) {
        case SB_DATATYPE_BOOL: v = ((const uint8_t *)t->data)[i]; break;
        case SB_DATATYPE_INT32: v = ((const int32_t *)t->data)[i]; break;
        case SB_DATATYPE_INT64: v = (double)((const int64_t *)t->data)[i]; break;
        case SB_DATATYPE_FP32: v = ((const float *)t->data)[i]; break;
        default: v = ((const double *)t->data)[i]; break;
        }
        cJSON_AddItemToArray(data, t->datatype == SB_DATATYPE_BOOL ? cJSON_CreateBool(v != 0) : cJSON_CreateNumber(v));
    }
    return item;
}

static sb_error *infer_async(sb_model *mp, const sb_tensor *inputs, uint32_t input_count, sb_tensor *outputs, uint32_t output_count,
                             sb_completion completion) {
    model *m = mp;
    backend *b = m->backend;
    cJSON *request = cJSON_CreateObject();
    if (m->binary) cJSON_AddBoolToObject(cJSON_AddObjectToObject(request, "parameters"), "binary_data_output", 1);
    cJSON *list = cJSON_AddArrayToObject(request, "inputs");
    for (uint32_t i = 0; i < input_count; i++) cJSON_AddItemToArray(list, tensor_json(&inputs[i], m->binary));
    job *j = calloc(1, sizeof *j);
    if (!j) {
        cJSON_Delete(request);
        return fail(b->host, SB_ERROR_INTERNAL, "out of memory", NULL);
    }
    char *json = cJSON_PrintUnformatted(request);
    cJSON_Delete(request);
    size_t json_length = json ? strlen(json) : 0, total = json_length;
    for (uint32_t i = 0; m->binary && i < input_count; i++) total += inputs[i].byte_size;
    j->body = json && total != json_length ? realloc(json, total) : json;
    if (!j->body) free(json);
    size_t at = json_length;
    for (uint32_t i = 0; j->body && m->binary && i < input_count; i++) {
        memcpy(j->body + at, inputs[i].data, inputs[i].byte_size);
        at += inputs[i].byte_size;
    }
    j->body_length = total;
    j->header_length = -1;
    j->model = m;
    j->outputs = outputs;
    j->output_count = output_count;
    j->completion = completion;
    j->easy = curl_easy_init();
    if (m->binary) {
        char length_header[80];
        snprintf(length_header, sizeof length_header, "Inference-Header-Content-Length: %zu", json_length);
        j->headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
        if (j->headers) j->headers = curl_slist_append(j->headers, length_header);
    } else {
        j->headers = curl_slist_append(NULL, "Content-Type: application/json");
    }
    if (!j->body || !j->easy || !j->headers) {
        free_job(j);
        return fail(b->host, SB_ERROR_INTERNAL, "out of memory", NULL);
    }
    curl_easy_setopt(j->easy, CURLOPT_URL, m->infer_url);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_length);
    curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(j->easy, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, &j->response);
    curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, m->timeout_ms);
    curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
    pthread_mutex_lock(&b->lock);
    j->next = b->queue;
    b->queue = j;
    pthread_mutex_unlock(&b->lock);
    curl_multi_wakeup(b->multi);
    return NULL;
}

static const sb_backend oip_http_backend = {
    .struct_size = sizeof(sb_backend),
    .abi_minor = SB_BACKEND_ABI_MINOR,
    .name = "oip-http",
    .version = "1",
    .capabilities = SB_BACKEND_CAP_ASYNC_INFER | SB_BACKEND_CAP_CONCURRENT_INFER,
    .initialize = initialize,
    .finalize = finalize,
    .model_load = model_load,
    .model_unload = model_unload,
    .model_metadata = model_metadata,
    .infer = NULL,
    .infer_async = infer_async,
};

static const sb_backend *const backends[] = {&oip_http_backend};

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
