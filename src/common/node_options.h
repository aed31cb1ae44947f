// The options of a node, each declared once: its name, help, value (kind, range, the HeadOptions
// field it sets) and the fields of the service processes it feeds. Every place that spells node
// options uses this table:
//   - `moray start` registers its flags from it (src/cli/options.cc),
//   - ParseHeadArgs reads RayConfig::head_args / --ray_head_args with it,
//   - the launcher builds the GCS's and the raylet's command lines from it (ServiceArgs), and
//   - `moray gcs-server` / `moray raylet` read those command lines back with it.
// So the same value gives the same error sentence everywhere ("--port must be a whole number from
// 0 to 65535, not 70000"). To add an option: add its field to HeadOptions (and to the service's
// options struct if a service uses it) and one entry to kNodeOptions in node_options.cc.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "common/option_values.h"
#include "dashboard/dashboard_options.h"
#include "gcs/gcs_server_main.h"
#include "raylet/raylet_options.h"

namespace moray {

// What a node is started with (StartHead, StartWorkerNode in head_launcher.h).
struct HeadOptions {
  std::string node_ip = "127.0.0.1";  // every service binds here
  int gcs_port = 0;                   // 0: any free port
  double num_cpus = -1;               // -1: all of this machine's CPUs
  int num_gpus = -1;                  // -1: the GPUs the node has (raylet/node_gpus.h)
  std::map<std::string, double> resources;  // custom resources
  int64_t object_store_memory = 0;          // bytes; 0: default
  std::string object_spilling_directory;    // empty: <session_dir>/spill
  // Bytes of the store faulted in at start. -1: the raylet's default (min(capacity, 2 GiB)) for
  // `moray start`; kEmbeddedPrefault for the embedded cluster of ray::Init, which is often
  // short-lived and shares the machine with others (tests, several drivers).
  int64_t object_store_prefault = -1;
  // Bytes of small values each driver/worker keeps in its own memory before putting new ones in
  // the store; -1: the raylet's default (a quarter of the store, at most 256 MiB).
  int64_t inline_object_memory = -1;
  int owner_pid = 0;      // > 0: the services exit when that process exits (the embedded cluster)
  bool detach = false;    // new session, so the services outlive the starting terminal
  std::string session_dir;  // empty: a fresh one
  std::string node_name;    // empty: the node's IP address
  std::map<std::string, std::string> labels;
  int raylet_port = 0;      // 0: any free port
  // Worker log rotation (the raylet's log agent; Ray's RAY_ROTATION_MAX_BYTES / _BACKUP_COUNT).
  int64_t log_rotation_bytes = 512ll << 20;
  int log_rotation_backup_count = 5;
  int metrics_export_port = 0;  // the raylet's GET /metrics; 0: any free port
  // The GCS's health checks of raylets (head only); 0: the GCS's defaults (1 s, 1 s, 5).
  int health_check_period_ms = 0;
  int health_check_timeout_ms = 0;
  int health_check_failure_threshold = 0;
  // The dashboard (`moray dashboard`: Ray's Jobs REST API, src/jobs), head only. `moray start
  // --head` starts it unless --include-dashboard=false; ray::Init's embedded cluster never does.
  bool include_dashboard = false;
  int dashboard_port = 8265;  // 0: any free port
  // Task attempts the GCS keeps (Ray's RAY_task_events_max_num_task_in_gcs); 0: the GCS's
  // default (100,000).
  int64_t task_events_max_num_task_in_gcs = 0;
  // The dashboard's HTTP bind address: loopback unless told (0.0.0.0: every interface).
  std::string dashboard_host = "127.0.0.1";
  // Set in the services' environment (over the starter's own), never on their command lines: the
  // cluster's auth (rpc::AuthEnvironment), which the GCS and the raylet load and pass on to
  // workers. Not a node option: the starter fills it (`moray start`, ray::Init).
  std::vector<std::pair<std::string, std::string>> service_env;
};

inline constexpr int64_t kEmbeddedPrefault = 256ll << 20;

// Where a user may give an option (a bit set).
enum NodeOptionUse : unsigned {
  kStartFlag = 1u << 0,  // `moray start`
  kHeadArg = 1u << 1,    // RayConfig::head_args (ray::Init's embedded cluster)
};

// The service a value is forwarded to, under the option's own name.
enum class NodeService { kGcs, kRaylet, kDashboard };

// The HeadOptions field an option sets, and the service fields it is forwarded to (nullptr: not
// that service's). A value equal to HeadOptions{}'s is "not given" and is not forwarded, so the
// service keeps its own default.
template <typename T>
struct NodeField {
  T HeadOptions::*head = nullptr;
  T gcs::GcsServerOptions::*gcs = nullptr;
  T raylet::RayletOptions::*raylet = nullptr;
  T dashboard::DashboardOptions::*dashboard = nullptr;
};

using ResourceAmounts = std::map<std::string, double>;
using NodeLabels = std::map<std::string, std::string>;

// The value's kind follows the field's type: bool is true or false, int and int64_t are whole
// numbers in `range`, double a number in `range`, std::string non-empty text, ResourceAmounts a
// JSON object of numbers (ParseResourcesJson), NodeLabels a JSON object of strings
// (ParseLabelsJson).
using NodeFieldRef =
    std::variant<NodeField<bool>, NodeField<int>, NodeField<int64_t>, NodeField<double>,
                 NodeField<std::string>, NodeField<ResourceAmounts>, NodeField<NodeLabels>>;

struct NodeOption {
  std::string_view name;        // "--port"
  std::string_view value_name;  // shown in help: "PORT"
  std::string_view help;
  unsigned uses = 0;            // NodeOptionUse bits
  NodeFieldRef field;
  NumberRange range;            // numbers only
  bool show_default = false;    // help shows the current value as the default

  // True if the value goes to `service`.
  bool Feeds(NodeService service) const;
  // Head-only: the raylet does not use it (only the GCS or the dashboard, or `moray start
  // --head` itself): meaningless for a node joining a cluster.
  bool HeadOnly() const { return !Feeds(NodeService::kRaylet); }
  // "a whole number from 0 to 65535", "a JSON object such as '{\"custom\": 2}'", ...
  std::string Allowed() const;
};

// Every node option, in help order.
std::span<const NodeOption> NodeOptions();
// The option named `name` ("--port"), or nullptr.
const NodeOption* FindNodeOption(std::string_view name);
// The names of the options with `use`, for "the options are ..." sentences.
std::vector<std::string> NodeOptionNames(NodeOptionUse use);

// Parses `text` as `option`'s value into the field it names in the target. InvalidArgument with a
// sentence naming the option and what it allows; FailedPrecondition if the target has no such
// field (a service given an option that is not its own).
absl::Status SetNodeOption(const NodeOption& option, std::string_view text, HeadOptions* target);
absl::Status SetNodeOption(const NodeOption& option, std::string_view text,
                           gcs::GcsServerOptions* target);
absl::Status SetNodeOption(const NodeOption& option, std::string_view text,
                           raylet::RayletOptions* target);
absl::Status SetNodeOption(const NodeOption& option, std::string_view text,
                           dashboard::DashboardOptions* target);

// The value of `option` in `options` as text that SetNodeOption reads back.
std::string FormatNodeOption(const NodeOption& option, const HeadOptions& options);
// Whether `options` sets `option` to something other than HeadOptions{}'s value.
bool NodeOptionGiven(const NodeOption& option, const HeadOptions& options);

// "--name=value" for every option that feeds `service` and is given in `options`.
std::vector<std::string> ServiceArgs(const HeadOptions& options, NodeService service);

// Parses RayConfig::head_args: the options with kHeadArg, as `--name=value` or `--name value`
// (`--head` is accepted and means nothing: the embedded cluster is a head). InvalidArgument with
// a sentence for an unknown option, a missing value or a value out of range.
absl::Status ParseHeadArgs(const std::vector<std::string>& args, HeadOptions* options);
// A --resources value: a JSON object of non-negative numbers, without CPU and GPU.
absl::StatusOr<ResourceAmounts> ParseResourcesJson(const std::string& json);
// A --labels value: a JSON object of strings.
absl::StatusOr<NodeLabels> ParseLabelsJson(const std::string& json);

}  // namespace moray
