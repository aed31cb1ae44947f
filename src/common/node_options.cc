#include "common/node_options.h"

#include <charconv>
#include <climits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace moray {
namespace {

using dashboard::DashboardOptions;
using gcs::GcsServerOptions;
using raylet::RayletOptions;

constexpr NumberRange kPortRange{.min = 0, .max = 65535};
constexpr NumberRange kBytes{.min = 0, .unit = "bytes"};
constexpr NumberRange kHealthCheckMs{.min = 10, .max = 3600000, .unit = "milliseconds"};

// The table. Help order is this order.
const NodeOption kNodeOptions[] = {
    {.name = "--port",
     .value_name = "PORT",
     .help = "GCS port of the head node (0: any free port)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int>{.head = &HeadOptions::gcs_port, .gcs = &GcsServerOptions::port},
     .range = kPortRange,
     .show_default = true},
    {.name = "--num-cpus",
     .value_name = "N",
     .help = "Logical CPUs of this node (default: all)",
     .uses = kStartFlag | kHeadArg,
     .field =
         NodeField<double>{.head = &HeadOptions::num_cpus, .raylet = &RayletOptions::num_cpus}},
    {.name = "--num-gpus",
     .value_name = "N",
     .help = "GPUs of this node (default: those CUDA_VISIBLE_DEVICES lists, else those the NVIDIA "
             "driver shows)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int>{.head = &HeadOptions::num_gpus, .raylet = &RayletOptions::num_gpus},
     .range = {.min = 0, .max = 4096}},
    {.name = "--resources",
     .value_name = "JSON",
     .help = "Custom resources as a JSON object, e.g. '{\"custom\": 2}'",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<ResourceAmounts>{.head = &HeadOptions::resources,
                                         .raylet = &RayletOptions::custom_resources}},
    {.name = "--object-store-memory",
     .value_name = "BYTES",
     .help = "Bytes of shared memory for the object store (default: 30% of RAM, at most /dev/shm's "
             "size)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int64_t>{.head = &HeadOptions::object_store_memory,
                                 .raylet = &RayletOptions::object_store_memory},
     .range = kBytes},
    {.name = "--object-store-prefault",
     .value_name = "BYTES",
     .help = "Bytes of the object store to fault in at start (default: min(capacity, 2 GiB); "
             "256 MiB for ray::Init's embedded cluster)",
     .uses = kHeadArg,
     .field = NodeField<int64_t>{.head = &HeadOptions::object_store_prefault,
                                 .raylet = &RayletOptions::object_store_prefault_bytes},
     .range = kBytes},
    {.name = "--inline-object-memory",
     .value_name = "BYTES",
     .help = "Bytes of small objects (up to 100 KiB each) that each driver or worker keeps in its "
             "own memory; past it new ones go to the object store (default: a quarter of the "
             "store, at most 256 MiB; 0: every object goes to the store)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int64_t>{.head = &HeadOptions::inline_object_memory,
                                 .raylet = &RayletOptions::inline_object_memory},
     .range = kBytes},
    {.name = "--object-spilling-directory",
     .value_name = "DIR",
     .help = "Where a full object store spills objects (default: <session>/spill)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<std::string>{.head = &HeadOptions::object_spilling_directory,
                                     .raylet = &RayletOptions::object_spilling_directory}},
    {.name = "--node-ip-address",
     .value_name = "ADDRESS",
     .help = "Address the services bind and advertise",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<std::string>{.head = &HeadOptions::node_ip,
                                     .gcs = &GcsServerOptions::host,
                                     .raylet = &RayletOptions::node_ip},
     .show_default = true},
    {.name = "--node-name",
     .value_name = "NAME",
     .help = "This node's name (default: its IP address)",
     .uses = kStartFlag,
     .field = NodeField<std::string>{.head = &HeadOptions::node_name,
                                     .raylet = &RayletOptions::node_name}},
    {.name = "--labels",
     .value_name = "JSON",
     .help = "Node labels as a JSON object of strings, e.g. '{\"zone\": \"a\"}'",
     .uses = kStartFlag,
     .field =
         NodeField<NodeLabels>{.head = &HeadOptions::labels, .raylet = &RayletOptions::labels}},
    {.name = "--health-check-period-ms",
     .value_name = "MS",
     .help = "Head: how often the GCS checks each raylet (default 1000)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int>{.head = &HeadOptions::health_check_period_ms,
                             .gcs = &GcsServerOptions::health_check_period_ms},
     .range = kHealthCheckMs},
    {.name = "--health-check-timeout-ms",
     .value_name = "MS",
     .help = "Head: how long one check may take (default 1000)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int>{.head = &HeadOptions::health_check_timeout_ms,
                             .gcs = &GcsServerOptions::health_check_timeout_ms},
     .range = kHealthCheckMs},
    {.name = "--health-check-failure-threshold",
     .value_name = "N",
     .help = "Head: failed checks in a row before a node is dead (default 5)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int>{.head = &HeadOptions::health_check_failure_threshold,
                             .gcs = &GcsServerOptions::health_check_failure_threshold},
     .range = {.min = 1, .max = 1000}},
    {.name = "--dashboard-port",
     .value_name = "PORT",
     .help = "Head: the dashboard's HTTP port (the Jobs API of `moray job`; 0: any free port)",
     .uses = kStartFlag,
     .field =
         NodeField<int>{.head = &HeadOptions::dashboard_port, .dashboard = &DashboardOptions::port},
     .range = kPortRange,
     .show_default = true},
    {.name = "--dashboard-host",
     .value_name = "ADDRESS",
     .help = "Head: the address the dashboard listens on (0.0.0.0: every interface; it asks "
             "browsers to log in with the cluster token)",
     .uses = kStartFlag,
     .field = NodeField<std::string>{.head = &HeadOptions::dashboard_host,
                                     .dashboard = &DashboardOptions::host},
     .show_default = true},
    {.name = "--include-dashboard",
     .value_name = "BOOL",
     .help = "Head: start the dashboard (true or false)",
     .uses = kStartFlag,
     .field = NodeField<bool>{.head = &HeadOptions::include_dashboard},
     .show_default = true},
    {.name = "--node-manager-port",
     .value_name = "PORT",
     .help = "The raylet's port (0: any free port)",
     .uses = kStartFlag,
     .field = NodeField<int>{.head = &HeadOptions::raylet_port, .raylet = &RayletOptions::port},
     .range = kPortRange},
    {.name = "--task-events-max-num-task-in-gcs",
     .value_name = "N",
     .help = "Head: task attempts the GCS keeps for `moray list tasks`, the summary and the "
             "timeline; past it the oldest finished ones are dropped and counted (default 100000)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int64_t>{.head = &HeadOptions::task_events_max_num_task_in_gcs,
                                 .gcs = &GcsServerOptions::max_task_records},
     .range = {.min = 1, .max = 100000000}},
    {.name = "--log-rotation-bytes",
     .value_name = "BYTES",
     .help = "A worker's .out/.err log file is rotated once it would grow past this size",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int64_t>{.head = &HeadOptions::log_rotation_bytes,
                                 .raylet = &RayletOptions::log_rotation_bytes},
     .range = {.min = 1, .unit = "bytes"},
     .show_default = true},
    {.name = "--log-rotation-backup-count",
     .value_name = "N",
     .help = "Rotated worker log files kept per stream (.out.1 ... .out.N)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int>{.head = &HeadOptions::log_rotation_backup_count,
                             .raylet = &RayletOptions::log_rotation_backup_count},
     .range = {.min = 0, .max = 1000},
     .show_default = true},
    {.name = "--metrics-export-port",
     .value_name = "PORT",
     .help = "The port of this node's Prometheus endpoint, GET /metrics (0: any free port; the "
             "GCS's node table and <session>/prom_metrics_service_discovery.json say which)",
     .uses = kStartFlag | kHeadArg,
     .field = NodeField<int>{.head = &HeadOptions::metrics_export_port,
                             .raylet = &RayletOptions::metrics_export_port},
     .range = kPortRange},
};

const HeadOptions kUnset{};

template <typename T>
T HeadOptions::*MemberIn(const NodeField<T>& field, const HeadOptions*) {
  return field.head;
}
template <typename T>
T GcsServerOptions::*MemberIn(const NodeField<T>& field, const GcsServerOptions*) {
  return field.gcs;
}
template <typename T>
T RayletOptions::*MemberIn(const NodeField<T>& field, const RayletOptions*) {
  return field.raylet;
}

template <typename T>
T DashboardOptions::*MemberIn(const NodeField<T>& field, const DashboardOptions*) {
  return field.dashboard;
}

template <typename T>
absl::StatusOr<T> ParseValue(const NodeOption& option, std::string_view text);

template <>
absl::StatusOr<bool> ParseValue<bool>(const NodeOption& option, std::string_view text) {
  auto choice = ParseChoice(option.name, text, {"true", "false"});
  if (!choice.ok()) return choice.status();
  return *choice == "true";
}

template <>
absl::StatusOr<int> ParseValue<int>(const NodeOption& option, std::string_view text) {
  NumberRange range = option.range;
  range.min = std::max<int64_t>(range.min, INT_MIN);
  range.max = std::min<int64_t>(range.max, INT_MAX);
  auto value = ParseWholeNumber(option.name, text, range);
  if (!value.ok()) return value.status();
  return static_cast<int>(*value);
}
template <>
absl::StatusOr<int64_t> ParseValue<int64_t>(const NodeOption& option, std::string_view text) {
  return ParseWholeNumber(option.name, text, option.range);
}
template <>
absl::StatusOr<double> ParseValue<double>(const NodeOption& option, std::string_view text) {
  return ParseNumber(option.name, text, option.range);
}
template <>
absl::StatusOr<std::string> ParseValue<std::string>(const NodeOption& option,
                                                    std::string_view text) {
  return ParseText(option.name, text);
}
template <>
absl::StatusOr<ResourceAmounts> ParseValue<ResourceAmounts>(const NodeOption&,
                                                            std::string_view text) {
  return ParseResourcesJson(std::string(text));
}
template <>
absl::StatusOr<NodeLabels> ParseValue<NodeLabels>(const NodeOption&, std::string_view text) {
  return ParseLabelsJson(std::string(text));
}

std::string Format(bool value) { return value ? "true" : "false"; }
std::string Format(int value) { return absl::StrCat(value); }
std::string Format(int64_t value) { return absl::StrCat(value); }
std::string Format(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);  // shortest exact form
  return std::string(buf, end);
}
std::string Format(const std::string& value) { return value; }
std::string Format(const ResourceAmounts& value) { return nlohmann::json(value).dump(); }
std::string Format(const NodeLabels& value) { return nlohmann::json(value).dump(); }

template <typename Target>
absl::Status SetField(const NodeOption& option, std::string_view text, Target* target) {
  return std::visit(
      [&](const auto& field) -> absl::Status {
        auto member = MemberIn(field, target);
        if (member == nullptr) {
          return absl::FailedPreconditionError(
              absl::StrCat(std::string(option.name), " is not an option of this service"));
        }
        using T = std::remove_reference_t<decltype(target->*member)>;
        absl::StatusOr<T> value = ParseValue<T>(option, text);
        if (!value.ok()) return value.status();
        target->*member = *std::move(value);
        return absl::OkStatus();
      },
      option.field);
}

}  // namespace

bool NodeOption::Feeds(NodeService service) const {
  return std::visit(
      [&](const auto& f) {
        switch (service) {
          case NodeService::kGcs:
            return f.gcs != nullptr;
          case NodeService::kRaylet:
            return f.raylet != nullptr;
          case NodeService::kDashboard:
            return f.dashboard != nullptr;
        }
        return false;
      },
      field);
}

std::string NodeOption::Allowed() const {
  struct {
    const NodeOption& option;
    std::string operator()(const NodeField<bool>&) const { return "true or false"; }
    std::string operator()(const NodeField<int>&) const {
      return DescribeWholeNumber(option.range);
    }
    std::string operator()(const NodeField<int64_t>&) const {
      return DescribeWholeNumber(option.range);
    }
    std::string operator()(const NodeField<double>&) const { return DescribeNumber(option.range); }
    std::string operator()(const NodeField<std::string>&) const { return "a non-empty text"; }
    std::string operator()(const NodeField<ResourceAmounts>&) const {
      return "a JSON object of amounts such as '{\"custom\": 2}'";
    }
    std::string operator()(const NodeField<NodeLabels>&) const {
      return "a JSON object of strings such as '{\"zone\": \"a\"}'";
    }
  } describe{*this};
  return std::visit(describe, field);
}

std::span<const NodeOption> NodeOptions() { return kNodeOptions; }

const NodeOption* FindNodeOption(std::string_view name) {
  for (const auto& option : kNodeOptions) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

std::vector<std::string> NodeOptionNames(NodeOptionUse use) {
  std::vector<std::string> names;
  for (const auto& option : kNodeOptions) {
    if (option.uses & use) names.emplace_back(option.name);
  }
  return names;
}

absl::Status SetNodeOption(const NodeOption& option, std::string_view text, HeadOptions* target) {
  return SetField(option, text, target);
}
absl::Status SetNodeOption(const NodeOption& option, std::string_view text,
                           GcsServerOptions* target) {
  return SetField(option, text, target);
}
absl::Status SetNodeOption(const NodeOption& option, std::string_view text,
                           RayletOptions* target) {
  return SetField(option, text, target);
}
absl::Status SetNodeOption(const NodeOption& option, std::string_view text,
                           DashboardOptions* target) {
  return SetField(option, text, target);
}

std::string FormatNodeOption(const NodeOption& option, const HeadOptions& options) {
  return std::visit([&](const auto& f) { return Format(options.*f.head); }, option.field);
}

bool NodeOptionGiven(const NodeOption& option, const HeadOptions& options) {
  return std::visit([&](const auto& f) { return options.*f.head != kUnset.*f.head; },
                    option.field);
}

std::vector<std::string> ServiceArgs(const HeadOptions& options, NodeService service) {
  std::vector<std::string> args;
  for (const auto& option : kNodeOptions) {
    if (option.Feeds(service) && NodeOptionGiven(option, options)) {
      args.push_back(absl::StrCat(std::string(option.name), "=", FormatNodeOption(option, options)));
    }
  }
  return args;
}

absl::Status ParseHeadArgs(const std::vector<std::string>& args, HeadOptions* options) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--head") continue;
    std::string name = args[i];
    std::string value;
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const NodeOption* option = FindNodeOption(name);
    if (option == nullptr || !(option->uses & kHeadArg)) {
      return absl::InvalidArgumentError(
          absl::StrCat("head_args has no option '", args[i], "'; its options are ",
                       JoinAlternatives(NodeOptionNames(kHeadArg), "and")));
    }
    if (eq == std::string::npos) {
      if (i + 1 == args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("in head_args, ", name,
                                                       " needs a value: ", option->Allowed()));
      }
      value = args[++i];
    }
    if (auto set = SetNodeOption(*option, value, options); !set.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("in head_args, ", set.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ResourceAmounts> ParseResourcesJson(const std::string& json) {
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--resources must be a JSON object of amounts such as '{\"custom\": 2}', not '", json,
        "'"));
  }
  ResourceAmounts out;
  for (auto& [name, value] : parsed.items()) {
    if (name.empty()) {
      return absl::InvalidArgumentError("--resources: resource names must not be empty");
    }
    if (name == "CPU" || name == "GPU") {
      return absl::InvalidArgumentError(
          absl::StrCat("--resources cannot set ", name, ": use --num-",
                       name == "CPU" ? "cpus" : "gpus", " instead"));
    }
    if (!value.is_number() || value.get<double>() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("--resources: the amount of '", name,
                                                     "' must be a number, 0 or more, not ",
                                                     value.dump()));
    }
    out[name] = value.get<double>();
  }
  return out;
}

absl::StatusOr<NodeLabels> ParseLabelsJson(const std::string& json) {
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--labels must be a JSON object of strings such as '{\"zone\": \"a\"}', not '", json,
        "'"));
  }
  NodeLabels out;
  for (auto& [name, value] : parsed.items()) {
    if (name.empty()) return absl::InvalidArgumentError("--labels: label names must not be empty");
    if (!value.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("--labels: the value of '", name,
                                                     "' must be a string, not ", value.dump()));
    }
    out[name] = value.get<std::string>();
  }
  return out;
}

}  // namespace moray
