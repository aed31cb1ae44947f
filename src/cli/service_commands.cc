// Internal subcommands that run Moray's processes: `moray gcs-server`, `moray raylet` and the
// generic `moray worker` that loads user libraries (code_search_path).
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_split.h"
#include "api/cluster_runtime.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "common/head_launcher.h"
#include "common/session.h"
#include "dashboard/dashboard_main.h"
#include "gcs/gcs_server_main.h"
#include "raylet/raylet_main.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"

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

// The service's auth, from the environment its starter gave it (RAY_AUTH_TOKEN; see
// rpc::AuthEnvironment), installed as the process's before anything connects. Without it the
// service cannot serve anyone: the reason goes to stderr (the service's .out log, whose tail the
// starter shows) and the process exits 1.
rpc::AuthConfig InstallAuthOrExit(const char* command, proto::PeerRole role) {
  absl::StatusOr<rpc::AuthConfig> auth = rpc::LoadAuthConfig();
  if (!auth.ok()) {
    std::fprintf(stderr, "moray %s: %s\n", command, std::string(auth.status().message()).c_str());
    std::exit(1);
  }
  rpc::SetProcessAuth(*auth);
  rpc::SetProcessRole(role);
  return *std::move(auth);
}

}  // namespace

void AddServiceCommands(CLI::App& app) {
  // The node options come from the table (common/node_options.h), under the names the launcher
  // forwards them with; the rest is how the launcher talks to the process.
  auto gcs_options = std::make_shared<gcs::GcsServerOptions>();
  auto* gcs = app.add_subcommand("gcs-server", "(internal) Run the GCS server process");
  gcs->group("");  // hidden from --help
  AddServiceOptions(gcs, gcs_options.get());
  AddTextOption(gcs, "--session-dir", "Session directory", "DIR", &gcs_options->session_dir)
      ->required();
  AddWholeNumberOption(gcs, "--ready-fd", "Write the port here once listening", "FD", {},
                       &gcs_options->ready_fd);
  AddWholeNumberOption(gcs, "--owner-pid", "Exit when this process exits", "PID", {},
                       &gcs_options->owner_pid);
  gcs->callback([gcs_options] {
    InstallAuthOrExit("gcs-server", proto::ROLE_GCS);
    std::exit(gcs::RunGcsServer(*gcs_options));
  });

  auto raylet_options = std::make_shared<raylet::RayletOptions>();
  auto* raylet = app.add_subcommand("raylet", "(internal) Run a raylet process");
  raylet->group("");
  raylet->add_flag("--head", raylet_options->is_head, "This is the head node");
  AddServiceOptions(raylet, raylet_options.get());
  AddOption(raylet, "--gcs-address", "GCS HOST:PORT", "HOST:PORT",
            [raylet_options](std::string_view text) {
              raylet_options->gcs_address = text;
              return ParseHostPort(raylet_options->gcs_address, nullptr, nullptr);
            })
      ->required();
  AddTextOption(raylet, "--session-dir", "Session directory", "DIR", &raylet_options->session_dir)
      ->required();
  AddWholeNumberOption(raylet, "--ready-fd", "Write the port here once ready", "FD", {},
                       &raylet_options->ready_fd);
  AddWholeNumberOption(raylet, "--owner-pid", "Exit when this process exits", "PID", {},
                       &raylet_options->owner_pid);
  raylet->callback([raylet_options] {
    // Workers get the raylet's auth as it was given to the raylet, not from their own sources.
    raylet_options->worker_env = rpc::AuthEnvironment(InstallAuthOrExit("raylet", proto::ROLE_RAYLET));
    raylet_options->moray_binary = FindMorayBinary();
    std::exit(raylet::RunRaylet(*raylet_options));
  });

  auto dashboard_options = std::make_shared<dashboard::DashboardOptions>();
  auto* dashboard = app.add_subcommand("dashboard", "(internal) Run the dashboard (Jobs API)");
  dashboard->group("");
  AddServiceOptions(dashboard, dashboard_options.get());
  AddOption(dashboard, "--gcs-address", "GCS HOST:PORT", "HOST:PORT",
            [dashboard_options](std::string_view text) {
              dashboard_options->gcs_address = text;
              return ParseHostPort(dashboard_options->gcs_address, nullptr, nullptr);
            })
      ->required();
  AddTextOption(dashboard, "--session-dir", "Session directory", "DIR",
                &dashboard_options->session_dir)
      ->required();
  AddTextOption(dashboard, "--host", "HTTP bind address", "ADDRESS", &dashboard_options->host);
  AddWholeNumberOption(dashboard, "--ready-fd", "Write the port here once serving", "FD", {},
                       &dashboard_options->ready_fd);
  dashboard->callback([dashboard_options] {
    // A client of the GCS like the CLI (reads the nodes, writes the KV).
    rpc::AuthConfig auth = InstallAuthOrExit("dashboard", proto::ROLE_CLI);
    std::exit(dashboard::RunDashboard(*dashboard_options, auth));
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
