// The driver of logs_test.cc: its tasks and actors print, and the test reads the driver's own
// output (worker lines prefixed, repeats folded) and the workers' log files (`moray logs`).
//   logs_driver ADDRESS DIR main|rotate
// main: on the non-head node, a task (TaskOnOther) prints one stdout and one stderr line, and an
//   actor (Talker) prints "actor says hi" and "count 1".."count 10"; three more actors each print
//   "same line from an actor" (one printed, two folded). Then the driver prints
//   "info actor_id=<hex> task_pid=<n> actor_pid=<n>", waits for DIR/late (the test's follower
//   is running), has the actor print "late line", and waits for DIR/release before exiting.
// rotate: one task prints "line 0".."line 1999" (padded), then the driver waits for DIR/release.
// Workers re-execute this program.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "ray/api.h"

namespace {

int TaskOnOther() {
  std::cout << "hello from the other node" << std::endl;
  std::cerr << "warning from the other node" << std::endl;
  return getpid();
}

int PrintMany(int n) {
  const std::string pad(24, 'x');
  for (int i = 0; i < n; ++i) std::printf("line %d %s\n", i, pad.c_str());
  std::fflush(stdout);
  return getpid();
}

class Talker {
 public:
  static Talker* Create() { return new Talker(); }
  int Hello() {
    std::cout << "actor says hi" << std::endl;
    for (int i = 1; i <= 10; ++i) std::cout << "count " << i << std::endl;
    return getpid();
  }
  int Say(std::string text) {
    std::cout << text << std::endl;
    return getpid();
  }
};

}  // namespace

RAY_REMOTE(TaskOnOther, PrintMany, Talker::Create, &Talker::Hello, &Talker::Say);

namespace {

// Waits (bounded) for a file the test creates.
bool AwaitFile(const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    ray::Init();  // a worker never returns from here
    return 2;
  }
  ray::RayConfig config;
  config.address = argv[1];
  ray::Init(config);
  const std::string dir = argv[2];
  const std::string mode = argv[3];
  std::string other;
  for (const ray::Node& node : ray::Nodes()) {
    if (!node.is_head && node.alive) other = node.node_id;
  }
  if (mode == "rotate") {
    const int pid = *ray::Task(PrintMany).Remote(2000).Get(120000);
    std::printf("info task_pid=%d\n", pid);
    std::fflush(stdout);
    const bool released = AwaitFile(dir + "/release");
    ray::Shutdown();
    return released ? 0 : 4;
  }
  if (other.empty()) {
    std::printf("no second node\n");
    return 3;
  }
  const ray::NodeAffinitySchedulingStrategy there{other};
  const int task_pid = *ray::Task(TaskOnOther).SetSchedulingStrategy(there).Remote().Get(120000);
  auto talker = ray::Actor(Talker::Create).SetSchedulingStrategy(there).Remote();
  const int actor_pid = *talker.Task(&Talker::Hello).Remote().Get(120000);
  std::vector<ray::ActorHandle<Talker>> echoes;
  for (int i = 0; i < 3; ++i) echoes.push_back(ray::Actor(Talker::Create).Remote());
  std::vector<ray::ObjectRef<int>> said;
  for (auto& echo : echoes)
    said.push_back(echo.Task(&Talker::Say).Remote("same line from an actor"));
  for (auto& ref : said) ref.Get(120000);
  std::printf("info actor_id=%s task_pid=%d actor_pid=%d\n", talker.ID().c_str(), task_pid,
              actor_pid);
  std::fflush(stdout);
  if (!AwaitFile(dir + "/late")) return 4;
  talker.Task(&Talker::Say).Remote("late line").Get(120000);
  const bool released = AwaitFile(dir + "/release");
  ray::Shutdown();
  return released ? 0 : 4;
}
