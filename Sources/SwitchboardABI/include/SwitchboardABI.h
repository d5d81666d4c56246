/* Umbrella header of the SwitchboardABI module: every ABI header, listed so that a new
 * header changes this file (an umbrella directory is not re-scanned by cached builds). */
#include "switchboard_common.h"
#include "switchboard_policy.h"
#include "switchboard_backend.h"
