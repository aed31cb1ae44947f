#include "tests/code_search_path/remote_functions.h"

#include <unistd.h>

#include "ray/api.h"

namespace code_search_path {

std::string ExecutablePath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

int Multiply(int a, int b) { return a * b; }

RAY_REMOTE(ExecutablePath, Multiply);

}  // namespace code_search_path
