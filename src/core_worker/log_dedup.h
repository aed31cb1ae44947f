// LogDeduplicator: folds worker output repeated across the cluster, as Ray's driver does. A line
// whose pattern (the line without its words that contain a digit) was not seen in the last
// `window` is printed at once; the same pattern from *another* process within the window is
// counted instead, and when the window closes the latest such line is printed once with
// " [repeated Nx across cluster]". Repeats from the process that printed the pattern first are
// printed as they come (a loop's own output is not folded). Lines whose pattern is empty (only
// numbers) are never folded.
//
//   LogDeduplicator dedup(absl::Seconds(5));
//   for (auto& line : dedup.Add({prefix, text, is_err}, "node:pid", now)) Print(line);
//   for (auto& line : dedup.Flush(now)) Print(line);   // at NextDeadline(), and at the end
//
// Thread model: not thread-safe; the caller serialises (the core worker's loop). Time is passed
// in, so tests need no clock.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/time/time.h"

namespace moray::core {

struct LogOutput {
  std::string prefix;  // "(f pid=12)"
  std::string text;    // the line, without its newline
  bool is_err = false;
};

class LogDeduplicator {
 public:
  explicit LogDeduplicator(absl::Duration window = absl::Seconds(5)) : window_(window) {}

  // What to print now for `line` from `source` (any id of the process that wrote it).
  std::vector<LogOutput> Add(LogOutput line, const std::string& source, absl::Time now);
  // The folded repeats of the patterns whose window closed by `now` (all of them with
  // absl::InfiniteFuture()); their patterns are forgotten.
  std::vector<LogOutput> Flush(absl::Time now);
  // When the next window closes; nullopt if no pattern is remembered.
  std::optional<absl::Time> NextDeadline() const;

  // The pattern of a line: its words (split at whitespace) without those containing a digit.
  static std::string Pattern(const std::string& text);

 private:
  struct Seen {
    absl::Time first;
    int repeats = 0;
    LogOutput latest;  // the last folded line
    std::unordered_set<std::string> sources;
  };
  absl::Duration window_;
  std::unordered_map<std::string, Seen> seen_;  // by stream + pattern
};

}  // namespace moray::core
