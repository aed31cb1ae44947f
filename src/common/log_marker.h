// The name marker: a line a worker writes on its stdout and stderr (after flushing them) when the
// name of the task or actor it runs changes, so the raylet's log agent (src/raylet/log_agent.h)
// knows whose output follows. The agent strips these lines from the files and from the stream to
// drivers. Python workers write the same bytes (python/moray/_private/worker_logs.py).
//
//   std::fflush(stdout); WriteAll(1, NameMarkerLine("f"));
#pragma once

#include <string>
#include <string_view>

namespace moray {

// ASCII RS (record separator), a space, then "moray:name " and the name.
inline constexpr std::string_view kNameMarkerPrefix = "\x1e moray:name ";

inline std::string NameMarkerLine(std::string_view name) {
  std::string line(kNameMarkerPrefix);
  line.append(name);
  line.push_back('\n');
  return line;
}

}  // namespace moray
