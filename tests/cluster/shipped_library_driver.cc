// The driver of shipped_code_test.cc's library case: its code is a code-search-path library.
//   shipped_library_driver ADDRESS LIBDIR
// ray::Init with code_search_path = {LIBDIR}, then removes LIBDIR; then, for every node, tasks
// of the library pinned there (run by `moray worker`, which loads the library from the node's
// code cache); prints per node
//   lib want=<node id> product=<6*7> <NodeAndLibrary()>
// and finally "done". The driver itself links the library from the build tree (to know the
// functions' names).
#include <cstdio>
#include <filesystem>
#include <string>

#include "ray/api.h"
#include "tests/code_search_path/remote_functions.h"

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  ray::RayConfig config;
  config.address = argv[1];
  config.code_search_path = {argv[2]};
  ray::Init(config);
  std::error_code ec;
  std::filesystem::remove_all(argv[2], ec);
  for (const auto& node : ray::Nodes()) {
    const ray::NodeAffinitySchedulingStrategy here{node.node_id};
    auto product = ray::Task(code_search_path::Multiply).SetSchedulingStrategy(here).Remote(6, 7);
    auto where = ray::Task(code_search_path::NodeAndLibrary).SetSchedulingStrategy(here).Remote();
    std::printf("lib want=%s product=%d %s\n", node.node_id.c_str(), *product.Get(120000),
                where.Get(120000)->c_str());
    std::fflush(stdout);
  }
  std::printf("done\n");
  ray::Shutdown();
  return 0;
}
