/* Compile-time pins of the v1 layout (x86_64/aarch64 LP64). A change to any of these
 * breaks every plugin built against v1: append fields and bump the minor instead. */
#include "switchboard_policy.h"
#include "switchboard_backend.h"
#include <stddef.h>

#define PIN(type, member, offset) _Static_assert(offsetof(type, member) == offset, #type "." #member " moved")
#define SIZE(type, size) _Static_assert(sizeof(type) == size, #type " changed size")

SIZE(sb_host_api, 40);
PIN(sb_host_api, host_context, 8);
PIN(sb_host_api, error_new, 16);
PIN(sb_host_api, log, 24);
PIN(sb_host_api, metric_add, 32);

SIZE(sb_policy_setup, 48);
PIN(sb_policy_setup, arm_names, 16);
PIN(sb_policy_setup, arm_weights, 24);
PIN(sb_policy_setup, config_json, 32);
PIN(sb_policy_setup, config_json_len, 40);

SIZE(sb_choose_request, 48);
PIN(sb_choose_request, context, 16);
PIN(sb_choose_request, unit_hash, 24);
PIN(sb_choose_request, seed, 32);
PIN(sb_choose_request, time, 40);

SIZE(sb_choice, 16);
PIN(sb_choice, arm, 4);
PIN(sb_choice, probabilities, 8);

SIZE(sb_update_request, 48);
PIN(sb_update_request, arm, 12);
PIN(sb_update_request, context, 16);
PIN(sb_update_request, reward, 24);
PIN(sb_update_request, propensity, 32);
PIN(sb_update_request, time, 40);

SIZE(sb_policy_v1, 96);
PIN(sb_policy_v1, name, 8);
PIN(sb_policy_v1, version, 16);
PIN(sb_policy_v1, capabilities, 24);
PIN(sb_policy_v1, config_create, 32);
PIN(sb_policy_v1, config_destroy, 40);
PIN(sb_policy_v1, state_length, 48);
PIN(sb_policy_v1, state_init, 56);
PIN(sb_policy_v1, choose, 64);
PIN(sb_policy_v1, update, 72);
PIN(sb_policy_v1, choose_set, 80);
PIN(sb_policy_v1, combine, 88);

SIZE(sb_policy_library_v1, 32);
PIN(sb_policy_library_v1, policies, 16);
PIN(sb_policy_library_v1, build_tag, 24);

/* Model-backend ABI v1.0 (switchboard_backend.h). */
SIZE(sb_tensor_desc, 80);
PIN(sb_tensor_desc, datatype, 8);
PIN(sb_tensor_desc, shape, 16);
SIZE(sb_model_metadata, 40);
PIN(sb_model_metadata, platform, 16);
PIN(sb_model_metadata, inputs, 24);
PIN(sb_model_metadata, outputs, 32);
SIZE(sb_tensor, 96);
PIN(sb_tensor, shape, 16);
PIN(sb_tensor, data, 80);
PIN(sb_tensor, byte_size, 88);
SIZE(sb_completion, 16);
SIZE(sb_backend_v1, 88);
PIN(sb_backend_v1, capabilities, 24);
PIN(sb_backend_v1, initialize, 32);
PIN(sb_backend_v1, finalize, 40);
PIN(sb_backend_v1, model_load, 48);
PIN(sb_backend_v1, model_unload, 56);
PIN(sb_backend_v1, model_metadata, 64);
PIN(sb_backend_v1, infer, 72);
PIN(sb_backend_v1, infer_async, 80);
SIZE(sb_backend_library_v1, 24);
PIN(sb_backend_library_v1, backends, 16);
