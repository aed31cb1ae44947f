// Running the `moray` command line from a benchmark program (cluster_bench, code_shipping_bench):
// which executable, and a command's output.
//
//   std::string out = moray::bench::Run(moray::bench::Moray() + " start --head --port=0");
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace moray::bench {

// A shell command's stdout and stderr, together.
inline std::string Run(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen((command + " 2>&1").c_str(), "r")) {
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, got);
    pclose(pipe);
  }
  return out;
}

// $MORAY_BIN, else the `moray` beside this program.
inline std::string Moray() {
  const char* bin = std::getenv("MORAY_BIN");
  if (bin && *bin) return bin;
  std::error_code ec;
  return (std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "moray").string();
}

}  // namespace moray::bench
