// The --ray_* command-line flags that ray::Init(config, argc, argv) reads.
#pragma once

#include "ray/api/ray_config.h"

namespace moray::api {

// Overrides fields of `config` from argv[1..argc): --ray_address, --ray_code_search_path
// (':'-separated), --ray_head_args (space-separated), --ray_default_actor_lifetime
// (detached|non_detached), --ray_job_namespace, --ray_redis_password, --ray_runtime_env (the job's
// runtime env as JSON text); each as --flag=value or --flag value. Other arguments are skipped;
// argv is not modified. When a flag repeats, the last wins. Throws RayException for a flag
// missing its value or a bad lifetime, RayRuntimeEnvException for runtime env text that is not
// a JSON object.
void ApplyCommandLineFlags(int argc, char** argv, ray::RayConfig& config);

}  // namespace moray::api
