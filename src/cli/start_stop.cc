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
#include "common/head_launcher.h"
#include "common/session.h"

namespace moray::cli {
namespace {

struct StartFlags {
  bool head = false;
  std::string address;
  int port = 6379;
  double num_cpus = -1;
  double num_gpus = 0;
  std::string resources;
  int64_t object_store_memory = 0;
  int64_t inline_object_memory = -1;
  std::string object_spilling_directory;
  std::string node_ip = "127.0.0.1";
  std::string node_name;
  std::string labels;
  int node_manager_port = 0;
  int health_check_period_ms = 0;
  int health_check_timeout_ms = 0;
  int health_check_failure_threshold = 0;
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
  std::cout << "Local node IP: " << flags.node_ip << "\n\n"
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

int RunStart(const StartFlags& flags) {
  if (flags.head == !flags.address.empty()) {
    std::cerr << "moray start: give either --head (start a new cluster) or --address=HOST:PORT "
                 "(join the cluster whose GCS is there)\n";
    return 2;
  }
  HeadOptions options;
  options.node_name = flags.node_name;
  options.raylet_port = flags.node_manager_port;
  options.health_check_period_ms = flags.health_check_period_ms;
  options.health_check_timeout_ms = flags.health_check_timeout_ms;
  options.health_check_failure_threshold = flags.health_check_failure_threshold;
  if (!flags.labels.empty()) {
    auto labels = ParseLabelsJson(flags.labels);
    if (!labels.ok()) {
      std::cerr << "moray start: " << labels.status().message() << "\n";
      return 2;
    }
    options.labels = *labels;
  }
  options.node_ip = flags.node_ip;
  options.gcs_port = flags.port;
  options.num_cpus = flags.num_cpus;
  options.num_gpus = flags.num_gpus;
  options.object_store_memory = flags.object_store_memory;
  options.inline_object_memory = flags.inline_object_memory;
  options.object_spilling_directory = flags.object_spilling_directory;
  options.detach = true;
  if (!flags.resources.empty()) {
    auto resources = ParseResourcesJson(flags.resources);
    if (!resources.ok()) {
      std::cerr << "moray start: " << resources.status().message() << "\n";
      return 2;
    }
    options.resources = *resources;
  }
  if (!flags.address.empty()) return JoinCluster(flags, options);
  auto head = StartHead(options);
  if (!head.ok()) {
    std::cerr << "moray start: " << head.status().message() << "\n";
    return 1;
  }
  (void)WriteCurrentCluster(head->gcs_address);
  std::cout << "Local node IP: " << flags.node_ip << "\n\n"
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
  auto* start = app.add_subcommand("start", "Start Moray processes on this machine");
  start->add_flag("--head", flags->head, "Start the head node (GCS + raylet)");
  start->add_option("--address", flags->address, "Join the cluster at HOST:PORT (worker node)");
  start->add_option("--port", flags->port, "GCS port of the head node (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  start->add_option("--num-cpus", flags->num_cpus, "Logical CPUs of this node (default: all)")
      ->check(CLI::NonNegativeNumber);
  start->add_option("--num-gpus", flags->num_gpus, "GPUs of this node")->check(CLI::NonNegativeNumber);
  start->add_option("--resources", flags->resources,
                    "Custom resources as a JSON object, e.g. '{\"custom\": 2}'");
  start->add_option("--object-store-memory", flags->object_store_memory,
                    "Bytes of shared memory for the object store")
      ->check(CLI::NonNegativeNumber);
  start->add_option("--inline-object-memory", flags->inline_object_memory,
                    "Bytes of small objects (<= 100 KiB) each driver or worker keeps in its own "
                    "memory; past it new ones go to the object store (default: a quarter of the "
                    "store, at most 256 MiB; 0: every object goes to the store)")
      ->check(CLI::NonNegativeNumber);
  start->add_option("--object-spilling-directory", flags->object_spilling_directory,
                    "Where a full object store spills objects (default: <session>/spill)");
  start->add_option("--node-ip-address", flags->node_ip, "Address the services bind and advertise")
      ->capture_default_str();
  start->add_option("--node-name", flags->node_name, "This node's name (default: its IP address)");
  start->add_option("--labels", flags->labels,
                    "Node labels as a JSON object of strings, e.g. '{\"zone\": \"a\"}'");
  start->add_option("--health-check-period-ms", flags->health_check_period_ms,
                    "Head: how often the GCS checks each raylet (default 1000)")
      ->check(CLI::Range(10, 3600000));
  start->add_option("--health-check-timeout-ms", flags->health_check_timeout_ms,
                    "Head: how long one check may take (default 1000)")
      ->check(CLI::Range(10, 3600000));
  start->add_option("--health-check-failure-threshold", flags->health_check_failure_threshold,
                    "Head: failed checks in a row before a node is dead (default 5)")
      ->check(CLI::Range(1, 1000));
  start->add_option("--node-manager-port", flags->node_manager_port,
                    "The raylet's port (0: any free port)")
      ->check(CLI::Range(0, 65535));
  start->callback([flags] { std::exit(RunStart(*flags)); });

  auto force = std::make_shared<bool>(false);
  auto grace = std::make_shared<int>(10);
  auto* stop = app.add_subcommand("stop", "Stop every Moray process started on this machine");
  stop->add_flag("-f,--force", *force, "Kill at once (SIGKILL)");
  stop->add_option("-g,--grace-period", *grace, "Seconds to wait before SIGKILL")
      ->capture_default_str();
  stop->callback([force, grace] { std::exit(RunStop(*force, *grace)); });
}

}  // namespace moray::cli
