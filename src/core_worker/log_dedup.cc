#include "core_worker/log_dedup.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"

namespace moray::core {

std::string LogDeduplicator::Pattern(const std::string& text) {
  std::string pattern;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    bool digit = false;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
      digit = digit || std::isdigit(static_cast<unsigned char>(text[i]));
      ++i;
    }
    if (i == start || digit) continue;
    if (!pattern.empty()) pattern.push_back(' ');
    pattern.append(text, start, i - start);
  }
  return pattern;
}

std::vector<LogOutput> LogDeduplicator::Add(LogOutput line, const std::string& source,
                                            absl::Time now) {
  std::vector<LogOutput> out = Flush(now);
  const std::string pattern = Pattern(line.text);
  if (pattern.empty()) {
    out.push_back(std::move(line));
    return out;
  }
  const std::string key = absl::StrCat(line.is_err ? "e" : "o", pattern);
  auto it = seen_.find(key);
  if (it == seen_.end()) {
    Seen& seen = seen_[key];
    seen.first = now;
    seen.sources.insert(source);
    out.push_back(std::move(line));
    return out;
  }
  Seen& seen = it->second;
  seen.sources.insert(source);
  if (seen.sources.size() > 1) {
    ++seen.repeats;
    seen.latest = std::move(line);
  } else {
    out.push_back(std::move(line));
  }
  return out;
}

std::vector<LogOutput> LogDeduplicator::Flush(absl::Time now) {
  std::vector<std::pair<absl::Time, LogOutput>> due;
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (now != absl::InfiniteFuture() && now - it->second.first < window_) {
      ++it;
      continue;
    }
    if (it->second.repeats > 0) {
      LogOutput line = std::move(it->second.latest);
      absl::StrAppend(&line.text, " [repeated ", it->second.repeats, "x across cluster]");
      due.emplace_back(it->second.first, std::move(line));
    }
    it = seen_.erase(it);
  }
  // In the order the patterns were first seen.
  std::stable_sort(due.begin(), due.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<LogOutput> out;
  out.reserve(due.size());
  for (auto& [first, line] : due) out.push_back(std::move(line));
  return out;
}

std::optional<absl::Time> LogDeduplicator::NextDeadline() const {
  std::optional<absl::Time> next;
  for (const auto& [key, seen] : seen_) {
    const absl::Time deadline = seen.first + window_;
    if (!next || deadline < *next) next = deadline;
  }
  return next;
}

}  // namespace moray::core
