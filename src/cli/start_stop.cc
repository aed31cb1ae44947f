// `moray start` and `moray stop`.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "common/head_launcher.h"
#include "common/session.h"

namespace moray::cli {
namespace {

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
    return JoinCluster(flags, options);
  }
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
            << "  To see the cluster:\n    moray status\n\n"
            << "  To terminate the Moray runtime, run\n    moray stop\n\n"
            << "  GCS address: " << head->gcs_address << "\n"
            << "  Session directory: " << head->session_dir << "\n";
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
  auto* start = app.add_subcommand("start", "Start Moray processes on this machine");
  start->add_flag("--head", flags->head, "Start the head node (GCS + raylet)");
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
