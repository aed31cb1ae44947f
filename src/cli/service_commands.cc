// Internal subcommands that run Moray's processes: `moray gcs-server`, `moray raylet` and the
// generic `moray worker` that loads user libraries (code_search_path).
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_split.h"
#include "api/cluster_runtime.h"
#include "cli/commands.h"
#include "common/head_launcher.h"
#include "gcs/gcs_server_main.h"
#include "nlohmann/json.hpp"
#include "raylet/raylet_main.h"

namespace moray::cli {
namespace fs = std::filesystem;
namespace {

// Loads every library named by a code search path entry (a .so file, or a directory of them).
bool LoadUserLibraries(const std::string& search_path) {
  bool ok = true;
  for (const std::string& entry : std::vector<std::string>(absl::StrSplit(search_path, ':', absl::SkipEmpty()))) {
    std::vector<fs::path> libraries;
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      for (const auto& file : fs::directory_iterator(entry, ec)) {
        if (file.path().extension() == ".so") libraries.push_back(file.path());
      }
    } else {
      libraries.emplace_back(entry);
    }
    for (const auto& lib : libraries) {
      if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
        std::fprintf(stderr, "moray worker: cannot load %s: %s\n", lib.c_str(), dlerror());
        ok = false;
      }
    }
  }
  return ok;
}

}  // namespace

void AddServiceCommands(CLI::App& app) {
  auto gcs_options = std::make_shared<gcs::GcsServerOptions>();
  auto* gcs = app.add_subcommand("gcs-server", "(internal) Run the GCS server process");
  gcs->group("");  // hidden from --help
  gcs->add_option("--host", gcs_options->host, "Address to bind");
  gcs->add_option("--port", gcs_options->port, "Port (0: any free port)");
  gcs->add_option("--session-dir", gcs_options->session_dir, "Session directory")->required();
  gcs->add_option("--ready-fd", gcs_options->ready_fd, "Write the port here once listening");
  gcs->add_option("--owner-pid", gcs_options->owner_pid, "Exit when this process exits");
  gcs->add_option("--health-check-period-ms", gcs_options->health_check_period_ms,
                  "How often each raylet is health-checked")
      ->check(CLI::Range(10, 3600000));
  gcs->add_option("--health-check-timeout-ms", gcs_options->health_check_timeout_ms,
                  "How long one health check may take")
      ->check(CLI::Range(10, 3600000));
  gcs->add_option("--health-check-failure-threshold", gcs_options->health_check_failure_threshold,
                  "Failed health checks in a row before a node is declared dead")
      ->check(CLI::Range(1, 1000));
  gcs->callback([gcs_options] { std::exit(gcs::RunGcsServer(*gcs_options)); });

  auto raylet_options = std::make_shared<raylet::RayletOptions>();
  auto resources = std::make_shared<std::string>();
  auto labels = std::make_shared<std::string>();
  auto* raylet = app.add_subcommand("raylet", "(internal) Run a raylet process");
  raylet->group("");
  raylet->add_flag("--head", raylet_options->is_head, "This is the head node");
  raylet->add_option("--node-ip-address", raylet_options->node_ip, "Address to bind and advertise");
  raylet->add_option("--port", raylet_options->port, "Port (0: any free port)");
  raylet->add_option("--gcs-address", raylet_options->gcs_address, "GCS host:port")->required();
  raylet->add_option("--session-dir", raylet_options->session_dir, "Session directory")->required();
  raylet->add_option("--node-name", raylet_options->node_name, "Node name");
  raylet->add_option("--num-cpus", raylet_options->num_cpus, "CPUs (-1: all)");
  raylet->add_option("--num-gpus", raylet_options->num_gpus, "GPUs");
  raylet->add_option("--resources", *resources, "Custom resources as a JSON object");
  raylet->add_option("--labels", *labels, "Node labels as a JSON object of strings");
  raylet->add_option("--object-store-memory", raylet_options->object_store_memory, "Bytes");
  raylet->add_option("--object-spilling-directory", raylet_options->object_spilling_directory,
                     "Where a full object store spills (default: <session-dir>/spill)");
  raylet->add_option("--object-store-prefault", raylet_options->object_store_prefault_bytes,
                     "Bytes of the store to fault in at start (-1: min(capacity, 2 GiB))");
  raylet->add_option("--inline-object-memory", raylet_options->inline_object_memory,
                     "Bytes of small values each driver/worker keeps in its own memory; past it "
                     "they go to the object store (-1: a quarter of the store, at most 256 MiB)");
  raylet->add_option("--ready-fd", raylet_options->ready_fd, "Write the port here once ready");
  raylet->add_option("--owner-pid", raylet_options->owner_pid, "Exit when this process exits");
  raylet->callback([raylet_options, resources, labels] {
    if (!resources->empty()) {
      auto parsed = ParseResourcesJson(*resources);
      if (!parsed.ok()) {
        std::fprintf(stderr, "moray raylet: %s\n", std::string(parsed.status().message()).c_str());
        std::exit(2);
      }
      raylet_options->custom_resources = *parsed;
    }
    if (!labels->empty()) {
      auto parsed = nlohmann::json::parse(*labels, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        std::fprintf(stderr, "moray raylet: invalid --labels '%s': expected a JSON object\n",
                     labels->c_str());
        std::exit(2);
      }
      for (auto& [k, v] : parsed.items()) {
        raylet_options->labels[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
    }
    raylet_options->moray_binary = FindMorayBinary();
    std::exit(raylet::RunRaylet(*raylet_options));
  });

  auto* worker = app.add_subcommand(
      "worker", "(internal) Run a generic worker that loads the job's libraries");
  worker->group("");
  worker->callback([] {
    const char* path = std::getenv("MORAY_CODE_SEARCH_PATH");
    if (!api::IsWorkerProcess()) {
      std::fprintf(stderr, "moray worker: only a raylet starts workers\n");
      std::exit(2);
    }
    if (path && !LoadUserLibraries(path)) std::exit(3);
    api::RunWorkerProcess();
  });
}

}  // namespace moray::cli
