// The classic Ray walkthrough (tasks, objects, actors, placement groups, then environment
// dependencies), in C++ on Moray.
// `make demo` runs it: ray::Init() with no address starts a private local cluster (a GCS and a
// raylet as child processes); workers re-execute this same program; Shutdown stops everything.
#include <ray/api.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>

// A remote function is an ordinary function registered with RAY_REMOTE.
int ReturnOne() { return 1; }

int SlowSquare(int x) {
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return x * x;
}

int Add(int a, int b) { return a + b; }

// Reads a variable and a file from the worker's runtime environment: the file is found relative
// to the current directory, which is the env's working_dir unpacked on the node.
std::string ReadEnvironment() {
  const char* greeting = std::getenv("TOUR_GREETING");
  std::ifstream file("data/message.txt");
  std::string message;
  std::getline(file, message);
  return std::string(greeting ? greeting : "(unset)") + ", " + (file ? message : "(no file)");
}

// An actor is an instance of a class living in its own worker process; a factory function
// creates it, and its methods are registered like remote functions.
class Counter {
 public:
  static Counter* Create() { return new Counter(); }
  int Increment() { return ++value_; }
  int GetCounter() { return value_; }

 private:
  int value_ = 0;
};

RAY_REMOTE(ReturnOne, SlowSquare, Add, ReadEnvironment, Counter::Create, &Counter::Increment, &Counter::GetCounter);

namespace {
double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs the `moray` command line next to this program (or on PATH) and returns what it printed.
std::string RunMoray(const std::string& args) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string();
  dir = dir.substr(0, dir.find_last_of('/') + 1);
  std::string moray = access((dir + "moray").c_str(), X_OK) == 0 ? dir + "moray" : "moray";
  std::string out;
  if (FILE* pipe = popen((moray + " " + args + " 2>&1").c_str(), "r")) {
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, got);
    pclose(pipe);
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  ray::RayConfig config;
  // Four logical CPUs, so the four slow tasks below run side by side even on a 2-core machine.
  config.head_args = {"--num-cpus=4"};
  auto start = std::chrono::steady_clock::now();
  ray::Init(config, argc, argv);
  std::cout << "1. ray::Init() started a local cluster in " << SecondsSince(start) << " s\n";

  // A task: Remote() returns an ObjectRef at once; Get() waits for the value.
  auto one = ray::Task(ReturnOne).Remote();
  std::cout << "2. ray::Task(ReturnOne).Remote() -> " << *ray::Get(one) << "\n";

  // Four one-second tasks run in parallel worker processes.
  start = std::chrono::steady_clock::now();
  std::vector<ray::ObjectRef<int>> squares;
  for (int i = 0; i < 4; ++i) squares.push_back(ray::Task(SlowSquare).Remote(i));
  auto values = ray::Get(squares);
  std::cout << "3. four 1-second SlowSquare tasks returned";
  for (const auto& v : values) std::cout << " " << *v;
  std::cout << " in " << SecondsSince(start) << " s (in parallel)\n";

  // Objects: Put stores a value in the cluster; tasks take ObjectRefs as arguments.
  auto x = ray::Put(41);
  auto sum = ray::Task(Add).Remote(x, one);
  std::cout << "4. ray::Put(41), then Add(x, one) on a worker -> " << *sum.Get() << "\n";

  // Get of several refs returns the values in the order of the refs.
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < 5; ++i) refs.push_back(ray::Put(i * 10));
  std::cout << "5. ray::Get of five refs, in order:";
  for (const auto& v : ray::Get(refs)) std::cout << " " << *v;
  std::cout << "\n";

  // Get with a timeout raises RayTimeoutException when the value is not ready in time.
  auto slow = ray::Task(SlowSquare).Remote(7);
  try {
    ray::Get(slow, 100);
    std::cout << "6. unexpected: the slow task finished within 100 ms\n";
  } catch (const ray::internal::RayTimeoutException& e) {
    std::cout << "6. ray::Get(slow, 100) raised RayTimeoutException: " << e.what() << "\n";
  }
  std::cout << "   ...and the task itself still finishes: " << *ray::Get(slow) << "\n";

  // An actor keeps state between calls; calls from one caller run in order.
  ray::ActorHandle<Counter> counter = ray::Actor(Counter::Create).SetName("counter").Remote();
  std::vector<ray::ObjectRef<int>> increments;
  for (int i = 0; i < 3; ++i) increments.push_back(counter.Task(&Counter::Increment).Remote());
  ray::Get(increments);
  std::cout << "7. a Counter actor, incremented 3 times from the driver -> "
            << *counter.Task(&Counter::GetCounter).Remote().Get() << "\n";

  // The state CLI sees the actor (`--address auto`: the cluster this program started).
  std::cout << "8. moray list actors:\n" << RunMoray("list actors --address auto");

  // A placement group reserves bundles of resources together, all or nothing: PACK puts its
  // bundles on as few nodes as possible, SPREAD on as many (this cluster has one node, so both
  // land there). A task or actor in a group runs inside one of its bundles' reservation.
  ray::PlacementGroup pack = ray::CreatePlacementGroup(
      {"tour_pack", {{{"CPU", 1}}, {{"CPU", 1}}}, ray::PlacementStrategy::PACK});
  ray::PlacementGroup spread = ray::CreatePlacementGroup(
      {"tour_spread", {{{"CPU", 1}}, {{"CPU", 1}}}, ray::PlacementStrategy::SPREAD});
  bool created = pack.Wait(60) && spread.Wait(60);
  std::cout << "9. placement groups tour_pack (PACK) and tour_spread (SPREAD), two 1-CPU bundles "
            << "each: " << (created ? "CREATED" : "not created within 60 s") << "\n";
  auto in_pack = ray::Task(Add).SetPlacementGroup(pack, 0).Remote(1, 2);
  auto in_spread = ray::Task(Add).SetPlacementGroup(spread, 1).Remote(3, 4);
  std::cout << "   a task in tour_pack's bundle 0 -> " << *in_pack.Get()
            << ", in tour_spread's bundle 1 -> " << *in_spread.Get() << "\n";
  std::cout << "10. moray list placement-groups:\n"
            << RunMoray("list placement-groups --address auto");
  ray::RemovePlacementGroup(pack.GetID());
  ray::RemovePlacementGroup(spread.GetID());

  // Environment dependencies: a runtime env gives a task (or an actor, or the whole job)
  // variables and a working directory. The directory is packed and uploaded once, then unpacked
  // on whichever node runs the task, so the files travel with the work.
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("moray-tour-env-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "data");
  std::ofstream(dir / "data" / "message.txt") << "read from data/message.txt\n";
  ray::RuntimeEnv env;
  env.Set("env_vars", std::map<std::string, std::string>{{"TOUR_GREETING", "hello from env_vars"}});
  env.Set("working_dir", dir.string());
  auto seen = ray::Task(ReadEnvironment).SetRuntimeEnv(env).Remote();
  std::cout << "11. a task with a runtime env (env_vars and working_dir) -> " << *seen.Get() << "\n";
  std::filesystem::remove_all(dir);

  ray::Shutdown();
  std::cout << "12. ray::Shutdown() stopped the cluster\n";
  return 0;
}
