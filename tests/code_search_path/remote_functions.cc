#include "tests/code_search_path/remote_functions.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

#include "ray/api.h"

namespace code_search_path {

std::string ExecutablePath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

int Multiply(int a, int b) { return a * b; }

std::string NodeAndLibrary() {
  Dl_info info;
  const char* lib =
      dladdr(reinterpret_cast<void*>(&Multiply), &info) && info.dli_fname ? info.dli_fname : "";
  const char* node = std::getenv("MORAY_NODE_ID");
  return std::string("on=") + (node ? node : "") + " lib=" + lib;
}

RAY_REMOTE(ExecutablePath, Multiply, NodeAndLibrary);

}  // namespace code_search_path
