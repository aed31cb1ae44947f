// A C++ driver that job_working_dir_test.cc submits with `moray job submit --working-dir`:
//   working_dir_job_driver [<resource>]
// ray::Init() joins the job's cluster (RAY_ADDRESS) and takes the job's runtime env
// (MORAY_JOB_RUNTIME_ENV, set by the job supervisor). It runs one task — needing one unit of
// <resource> when given, so it runs on the node that has it — which reads data/input.txt
// relative to its current directory and $GREETING, and prints
//   task read: <first line of the file>|<GREETING>|worker_pid=<pid>|cwd=<cwd>
// then blocks until it is stopped — or, with DRIVER_RETURNS=1 in its environment, shuts down and
// returns. Workers re-execute this program; Init never returns there.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ray/api.h"

namespace {

std::string ReadShipped() {
  std::ifstream in("data/input.txt");
  std::string line;
  if (!std::getline(in, line)) line = "<no data/input.txt here>";
  const char* greeting = std::getenv("GREETING");
  return line + "|" + (greeting != nullptr ? greeting : "<unset>") +
         "|worker_pid=" + std::to_string(getpid()) +
         "|cwd=" + std::filesystem::current_path().string();
}

}  // namespace
RAY_REMOTE(ReadShipped);

int main(int argc, char** argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);
  auto task = ray::Task(ReadShipped);
  if (argc > 1) task.SetResource(argv[1], 1);
  const std::string read = *task.Remote().Get();
  std::printf("driver_pid=%d\ntask read: %s\n", static_cast<int>(getpid()), read.c_str());
  std::fflush(stdout);
  if (std::getenv("DRIVER_RETURNS") != nullptr) {
    ray::Shutdown();
    return 0;
  }
  while (true) pause();
}
