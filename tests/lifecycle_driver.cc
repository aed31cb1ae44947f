// A driver program that lifecycle_test.cc runs as a child process, to see what a driver leaves
// behind when it ends without ray::Shutdown():
//   lifecycle_driver exit   Init (embedded cluster), run a task, then return from main once
//                           stdin closes (the test first looks at what the cluster holds)
//   lifecycle_driver wait   Init, run a task, then block until killed
// It prints "driver_pid=<pid>", "worker_pid=<pid of the worker that ran the task>" and "READY".
// Workers re-execute this program; ray::Init() turns them into workers and never returns there.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "ray/api.h"

namespace {
int Pid() { return static_cast<int>(getpid()); }
}  // namespace
RAY_REMOTE(Pid);

int main(int argc, char** argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);
  const char* mode = argc > 1 ? argv[1] : "";
  int worker_pid = *ray::Task(Pid).Remote().Get();
  std::printf("driver_pid=%d\nworker_pid=%d\nREADY\n", static_cast<int>(getpid()), worker_pid);
  std::fflush(stdout);
  if (std::strcmp(mode, "wait") == 0) {
    while (true) pause();
  }
  char buf[64];
  while (read(0, buf, sizeof(buf)) > 0) {
  }
  return 0;  // "exit": no ray::Shutdown()
}
