// `moray start` and `moray stop`.
#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "common/head_launcher.h"
#include "common/session.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"

namespace moray::cli {
namespace {

// Whether services bound to `host` are reachable from this machine only.
bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// The auth of the services `moray start` starts, and of this process: a head makes a token in
// ~/.ray/auth_token when no source has one (and says where, never what); a node joining a
// cluster needs the cluster's token already. Disabled auth on an address others can reach gets a
// warning on stderr. Prints its own error; nullopt then (exit 1).
std::optional<rpc::AuthConfig> StartAuth(bool head, const std::string& node_ip) {
  bool created = false;
  absl::StatusOr<rpc::AuthConfig> auth =
      head ? rpc::EnsureAuthToken(&created) : rpc::LoadAuthConfig();
  if (!auth.ok()) {
    std::cerr << "moray start: " << auth.status().message() << "\n";
    return std::nullopt;
  }
  if (created) {
    std::cout << "Created a cluster auth token in " << auth->source
              << " (mode 0600); drivers and the CLI of this user find it there.\n";
  }
  if (auth->mode == rpc::AuthMode::kDisabled && !IsLoopback(node_ip)) {
    std::cerr << "WARNING: authentication is disabled (RAY_AUTH_MODE=disabled) and services listen "
                 "on "
              << node_ip << ":\n"
              << "  anyone who can reach these ports can run code on this cluster.\n"
              << "  Unset RAY_AUTH_MODE to use token authentication (the default), or bind to a "
                 "loopback address.\n";
  }
  rpc::SetProcessAuth(*auth);
  rpc::SetProcessRole(proto::ROLE_CLI);
  return *std::move(auth);
}

// What `moray start` was given besides the node options.
struct StartFlags {
  bool head = false;
  std::string address;
};

int JoinCluster(const StartFlags& flags, const HeadOptions& options) {
  auto gcs_address = ResolveGcsAddress(flags.address);
  if (!gcs_address.ok()) {
    std::cerr << "moray start: " << gcs_address.status().message() << "\n";
    return 2;
  }
  auto node = StartWorkerNode(options, *gcs_address);
  if (!node.ok()) {
    std::cerr << "moray start: could not join the cluster at " << *gcs_address << ": "
              << node.status().message() << "\n";
    return 1;
  }
  std::cout << "Local node IP: " << options.node_ip << "\n\n"
            << "--------------------\n"
            << "Moray runtime started (worker node).\n"
            << "--------------------\n\n"
            << "  This node's raylet joined the cluster at " << *gcs_address << " (port "
            << node->raylet_port << ").\n"
            << "  To terminate the Moray processes of this machine, run\n    moray stop\n\n"
            << "  GCS address: " << *gcs_address << "\n"
            << "  Raylet address: " << node->raylet_host << ":" << node->raylet_port << "\n"
            << "  Session directory: " << node->session_dir << "\n";
  return 0;
}

// `given`: the node options given on the command line.
int RunStart(const StartFlags& flags, HeadOptions options, const std::vector<std::string>& given) {
  if (flags.head == !flags.address.empty()) {
    std::cerr << "moray start: give either --head (start a new cluster) or --address=HOST:PORT "
                 "(join the cluster whose GCS is there)\n";
    return 2;
  }
  options.detach = true;
  if (!flags.head) {
    for (const auto& name : given) {
      if (FindNodeOption(name)->HeadOnly()) {
        std::cerr << "moray start: " << name
                  << " is for the head node (--head); a node joining a cluster has no GCS\n";
        return 2;
      }
    }
    auto auth = StartAuth(/*head=*/false, options.node_ip);
    if (!auth) return 1;
    options.service_env = rpc::AuthEnvironment(*auth);
    return JoinCluster(flags, options);
  }
  auto auth = StartAuth(/*head=*/true, options.node_ip);
  if (!auth) return 1;
  if (auth->mode == rpc::AuthMode::kDisabled && options.include_dashboard &&
      !IsLoopback(options.dashboard_host)) {
    std::cerr << "WARNING: authentication is disabled (RAY_AUTH_MODE=disabled) and the dashboard "
                 "listens on "
              << options.dashboard_host << " with no login: anyone who can reach it can submit "
              << "jobs.\n";
  }
  options.service_env = rpc::AuthEnvironment(*auth);
  auto head = StartHead(options);
  if (!head.ok()) {
    std::cerr << "moray start: " << head.status().message() << "\n";
    return 1;
  }
  (void)WriteCurrentCluster(head->gcs_address);
  std::cout << "Local node IP: " << options.node_ip << "\n\n"
            << "--------------------\n"
            << "Moray runtime started.\n"
            << "--------------------\n\n"
            << "Next steps\n"
            << "  To connect a C++ driver to this cluster, set its address:\n"
            << "    ray::RayConfig config;\n"
            << "    config.address = \"" << head->gcs_address << "\";  // or \"auto\"\n"
            << "    ray::Init(config);\n"
            << "  or run the program with --ray_address=" << head->gcs_address
            << " or RAY_ADDRESS=" << head->gcs_address << "\n\n"
            << "  To see the cluster:\n    moray status\n\n";
  if (!head->dashboard_address.empty()) {
    std::cout << "  To submit a job (Ray's Jobs API, on the dashboard):\n"
              << "    moray job submit -- <command>\n\n";
  }
  std::cout << "  To terminate the Moray runtime, run\n    moray stop\n\n"
            << "  GCS address: " << head->gcs_address << "\n";
  if (!head->dashboard_address.empty()) {
    std::cout << "  Dashboard: http://" << head->dashboard_address << "\n";
    if (auth->mode != rpc::AuthMode::kDisabled) {
      std::cout << "    (a browser logs in with the cluster token: `moray get-auth-token`)\n";
    }
  }
  std::cout << "  Session directory: " << head->session_dir << "\n";
  std::cout << "  Metrics: every node serves GET /metrics; Prometheus finds them in "
            << head->session_dir << "/prom_metrics_service_discovery.json\n";
  if (!head->dashboard_error.empty()) {
    std::cerr << "WARNING: " << head->dashboard_error << "\n";
  }
  return 0;
}

// True if `pid` is alive and is a moray process (so a recycled pid is never signalled).
bool IsMorayProcess(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"), std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cmdline.find("moray") != std::string::npos;
}

int RunStop(bool force, int grace_s) {
  std::vector<pid_t> raylets;
  std::vector<pid_t> others;
  for (const auto& dir : ListSessionDirs()) {
    std::ifstream in(dir + "/pids");
    pid_t pid;
    std::string name;
    while (in >> pid >> name) {
      if (pid > 0 && pid != getpid() && kill(pid, 0) == 0 && IsMorayProcess(pid)) {
        (name == "raylet" ? raylets : others).push_back(pid);
      }
    }
  }
  if (force) {
    for (pid_t pid : raylets) kill(pid, SIGKILL);
    for (pid_t pid : others) kill(pid, SIGKILL);
  }
  // Raylets first, while their GCS still answers: each stops its workers and unregisters its
  // node. Then the GCS.
  absl::Time deadline = absl::Now() + absl::Seconds(grace_s);
  StopProcesses(raylets, absl::Seconds(grace_s));
  StopProcesses(others, std::max(deadline - absl::Now(), absl::Seconds(1)));
  std::remove(CurrentClusterFile().c_str());
  std::cout << "Stopped all " << raylets.size() + others.size() << " Moray processes.\n";
  return 0;
}

}  // namespace

void AddStartStopCommands(CLI::App& app) {
  auto flags = std::make_shared<StartFlags>();
  auto options = std::make_shared<HeadOptions>();
  options->gcs_port = 6379;  // `moray start`'s default; ray::Init's embedded cluster takes any
  options->include_dashboard = true;  // the embedded cluster has none
  auto* start = app.add_subcommand("start", "Start Moray processes on this machine");
  start->add_flag("--head", flags->head, "Start the head node (GCS + raylet + dashboard)");
  AddOption(start, "--address", "Join the cluster at HOST:PORT, or `auto` (worker node)",
            "HOST:PORT", [flags](std::string_view text) {
              flags->address = text;  // checked when resolved, as `auto` may be given
              return absl::OkStatus();
            });
  AddNodeOptions(start, kStartFlag, options.get());
  start->callback([start, flags, options] {
    std::vector<std::string> given;
    for (const auto& name : NodeOptionNames(kStartFlag)) {
      if (start->count(name) > 0) given.push_back(name);
    }
    std::exit(RunStart(*flags, *options, given));
  });

  auto force = std::make_shared<bool>(false);
  auto grace = std::make_shared<int>(10);
  auto* stop = app.add_subcommand("stop", "Stop every Moray process started on this machine");
  stop->add_flag("-f,--force", *force, "Kill at once (SIGKILL)");
  AddWholeNumberOption(stop, "-g,--grace-period", "Seconds to wait before SIGKILL", "SECONDS",
                       {.min = 0, .max = 3600, .unit = "seconds"}, grace.get())
      ->default_str("10");
  stop->callback([force, grace] { std::exit(RunStop(*force, *grace)); });
}

}  // namespace moray::cli
