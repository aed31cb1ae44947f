// The tasks-and-objects part of the classic Ray walkthrough, in C++ on Moray.
// `make demo` runs it: ray::Init() with no address starts a private local cluster (a GCS and a
// raylet as child processes); workers re-execute this same program; Shutdown stops everything.
#include <ray/api.h>

#include <chrono>
#include <iostream>
#include <thread>

// A remote function is an ordinary function registered with RAY_REMOTE.
int ReturnOne() { return 1; }

int SlowSquare(int x) {
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return x * x;
}

int Add(int a, int b) { return a + b; }

RAY_REMOTE(ReturnOne, SlowSquare, Add);

namespace {
double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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

  ray::Shutdown();
  std::cout << "7. ray::Shutdown() stopped the cluster\n";
  return 0;
}
