// Remote functions both benchmarks use (Ray C++ API only, so microbenchmark.cc still builds
// against ray-cpp). Each program registers them in its own RAY_REMOTE.
#pragma once

#include <ray/api.h>

#include <vector>

namespace moray::bench {

inline int Noop() { return 0; }

// A "client": submits `n` no-op tasks from inside a worker, then gets them all (Ray's benchmark
// does this from actors; any process that owns tasks is a client).
inline int ClientBatch(int n) {
  std::vector<ray::ObjectRef<int>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) refs.push_back(ray::Task(Noop).Remote());
  ray::Get(refs);
  return n;
}

}  // namespace moray::bench
