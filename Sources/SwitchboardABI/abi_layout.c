/* Compile-time pins of the layouts (x86_64/aarch64 LP64): policy ABI 2, backend ABI 2,
 * host services. A change to any of these breaks every plugin built against the major
 * version: append fields and bump the minor instead. */
#include "switchboard_common.h"
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

SIZE(sb_policy_setup, 40);
PIN(sb_policy_setup, arm_names, 16);
PIN(sb_policy_setup, arm_weights, 24);
PIN(sb_policy_setup, config_json, 32);

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

SIZE(sb_policy, 96);
PIN(sb_policy, name, 8);
PIN(sb_policy, version, 16);
PIN(sb_policy, capabilities, 24);
PIN(sb_policy, config_create, 32);
PIN(sb_policy, config_destroy, 40);
PIN(sb_policy, state_length, 48);
PIN(sb_policy, state_init, 56);
PIN(sb_policy, choose, 64);
PIN(sb_policy, update, 72);
PIN(sb_policy, choose_set, 80);
PIN(sb_policy, combine, 88);

SIZE(sb_policy_library, 32);
PIN(sb_policy_library, policies, 16);
PIN(sb_policy_library, build_tag, 24);

/* Model-backend ABI 2.0 (switchboard_backend.h). */
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
PIN(sb_completion, context, 8);
SIZE(sb_backend, 88);
PIN(sb_backend, capabilities, 24);
PIN(sb_backend, initialize, 32);
PIN(sb_backend, finalize, 40);
PIN(sb_backend, model_load, 48);
PIN(sb_backend, model_unload, 56);
PIN(sb_backend, model_metadata, 64);
PIN(sb_backend, infer, 72);
PIN(sb_backend, infer_async, 80);
SIZE(sb_backend_library, 32);
PIN(sb_backend_library, backends, 16);
PIN(sb_backend_library, build_tag, 24);
