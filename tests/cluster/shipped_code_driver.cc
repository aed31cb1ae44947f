// The driver of shipped_code_test.cc and netns_test.cc's shipped-code case: its workers must run
// the code it started with, whatever happens to its file.
//   shipped_code_driver ADDRESS MODE
// MODE after ray::Init: "keep" (nothing), "delete" (removes the directory holding this program),
// "replace" (renames another file over this program's path, as a rebuild does). Then, for every
// node, a task and a new actor (a new worker process) pinned there; each prints one line
//   ran kind=<task|actor> want=<node id> on=<MORAY_NODE_ID> exe=<its /proc/self/exe>
//       path_here=<0|1: whether this program's original path exists on that node> pid=<worker's>
// and finally "done".
// Workers re-execute (a cached copy of) this program.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ray/api.h"

namespace {

std::string Where(const std::string& original_path) {
  const char* node = std::getenv("MORAY_NODE_ID");
  std::error_code ec;
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  return std::string("on=") + (node ? node : "") + " exe=" + exe +
         " path_here=" + (std::filesystem::exists(original_path, ec) ? "1" : "0") +
         " pid=" + std::to_string(getpid());
}

class Probe {
 public:
  static Probe* Create() { return new Probe(); }
  std::string Where(const std::string& original_path) { return ::Where(original_path); }
};

std::string TaskWhere(const std::string& original_path) { return Where(original_path); }

}  // namespace

RAY_REMOTE(TaskWhere, Probe::Create, &Probe::Where);

int main(int argc, char** argv) {
  if (argc < 3) {
    ray::Init();  // a worker never returns from here
    return 2;
  }
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  ray::RayConfig config;
  config.address = argv[1];
  ray::Init(config);
  const std::string mode = argv[2];
  if (mode == "delete") {
    std::filesystem::remove_all(std::filesystem::path(self).parent_path(), ec);
  } else if (mode == "replace") {
    {
      std::ofstream other(self + ".new", std::ios::trunc);
      other << "#!/bin/sh\necho 'not the code the driver started with'\nexit 7\n";
    }
    std::filesystem::permissions(self + ".new", std::filesystem::perms::owner_all);
    std::filesystem::rename(self + ".new", self, ec);
  }
  if (ec) {
    std::printf("mode %s failed: %s\n", mode.c_str(), ec.message().c_str());
    return 3;
  }
  for (const auto& node : ray::Nodes()) {
    const ray::NodeAffinitySchedulingStrategy here{node.node_id};
    auto task = ray::Task(TaskWhere).SetSchedulingStrategy(here).Remote(self);
    std::printf("ran kind=task want=%s %s\n", node.node_id.c_str(), task.Get(120000)->c_str());
    auto actor = ray::Actor(Probe::Create).SetSchedulingStrategy(here).Remote();
    auto where = actor.Task(&Probe::Where).Remote(self);
    std::printf("ran kind=actor want=%s %s\n", node.node_id.c_str(), where.Get(120000)->c_str());
    std::fflush(stdout);
  }
  std::printf("done\n");
  ray::Shutdown();
  return 0;
}
