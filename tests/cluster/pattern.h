// Helpers for cluster tests' remote functions: a deterministic byte pattern (so any copy of an
// object can be checked byte for byte) and the node a worker runs on.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace moray::testing {

inline uint8_t PatternByte(int64_t i) {
  return static_cast<uint8_t>((i * 131 + (i >> 20) + 7) & 0xFF);
}
inline std::vector<uint8_t> MakePattern(int64_t size) {
  std::vector<uint8_t> out(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) out[i] = PatternByte(i);
  return out;
}
// Where the first byte that differs from the pattern is; -1 when all match.
inline int64_t FirstMismatch(const std::vector<uint8_t>& bytes) {
  for (int64_t i = 0; i < static_cast<int64_t>(bytes.size()); ++i) {
    if (bytes[i] != PatternByte(i)) return i;
  }
  return -1;
}
// The node this worker runs on (hex), from its environment; "" in a driver.
inline std::string NodeOf() {
  const char* id = std::getenv("MORAY_NODE_ID");
  return id ? id : "";
}

}  // namespace moray::testing
