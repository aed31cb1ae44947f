#include "runtime_env/ignore_rules.h"

#include "absl/strings/str_split.h"
#include "runtime_env/package_internal.h"

namespace moray::runtime_env {
namespace {

// Matches a `[...]` class at the start of `p` against `c`. Sets `len` to the class's length; a
// `[` without its `]` is a literal (len 0).
bool MatchClass(std::string_view p, char c, size_t& len) {
  size_t i = 1;
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      if (hi == '\\' && i + 3 < p.size()) hi = p[++i + 2];
      i += 2;
    }
    if (lo <= c && c <= hi) matched = true;
    ++i;
  }
  if (i >= p.size()) {
    len = 0;
    return false;
  }
  len = i + 1;
  return matched != negate && c != '/';
}

// `segment_start`: `p` begins a path segment (the pattern's start or just after a '/'), where
// `**` means "any directories"; elsewhere it is a plain `*`, as in git.
bool Match(std::string_view p, std::string_view t, bool segment_start) {
  while (!p.empty()) {
    if (p.substr(0, 2) == "**" && segment_start && (p.size() == 2 || p[2] == '/')) {
      if (p.size() == 2) return true;  // a trailing `**`: everything below
      // `**/`: zero or more whole directories.
      std::string_view rest = p.substr(3);
      if (Match(rest, t, true)) return true;
      for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '/' && Match(rest, t.substr(i + 1), true)) return true;
      }
      return false;
    }
    switch (p[0]) {
      case '*': {
        std::string_view rest = p.substr(1);
        while (!rest.empty() && rest[0] == '*') rest.remove_prefix(1);
        for (size_t i = 0; i <= t.size(); ++i) {
          if (Match(rest, t.substr(i), false)) return true;
          if (i < t.size() && t[i] == '/') return false;
        }
        return false;
      }
      case '?':
        if (t.empty() || t[0] == '/') return false;
        p.remove_prefix(1);
        t.remove_prefix(1);
        segment_start = false;
        continue;
      case '[': {
        if (t.empty()) return false;
        size_t len = 0;
        bool ok = MatchClass(p, t[0], len);
        if (len > 0) {
          if (!ok) return false;
          p.remove_prefix(len);
          t.remove_prefix(1);
          segment_start = false;
          continue;
        }
        break;  // a literal '['
      }
      case '\\':
        if (p.size() > 1) p.remove_prefix(1);
        break;
      default:
        break;
    }
    if (t.empty() || t[0] != p[0]) return false;
    segment_start = p[0] == '/';
    p.remove_prefix(1);
    t.remove_prefix(1);
  }
  return t.empty();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  return Match(pattern, text, true);
}

std::vector<std::string> ParseIgnoreFile(std::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view piece : absl::StrSplit(Sv(text), '\n')) {
    std::string_view line(piece.data(), piece.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
      line.remove_suffix(1);
    }
    if (line.empty() || line[0] == '#') continue;
    out.emplace_back(line);
  }
  return out;
}

void IgnoreRules::Add(std::string_view base, const std::vector<std::string>& patterns) {
  for (std::string_view p : patterns) {
    Rule rule;
    rule.base = std::string(base);
    if (!p.empty() && p[0] == '!') {
      rule.negated = true;
      p.remove_prefix(1);
    } else if (p.size() >= 2 && p[0] == '\\' && (p[1] == '!' || p[1] == '#')) {
      p.remove_prefix(1);
    }
    if (!p.empty() && p.back() == '/') {
      rule.dir_only = true;
      while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    }
    if (!p.empty() && p[0] == '/') {
      rule.anchored = true;
      while (!p.empty() && p[0] == '/') p.remove_prefix(1);
    }
    if (p.empty()) continue;
    if (p.find('/') != std::string_view::npos) rule.anchored = true;
    rule.pattern = std::string(p);
    rules_.push_back(std::move(rule));
  }
}

bool IgnoreRules::Ignored(std::string_view path, bool is_dir) const {
  bool ignored = false;
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (const Rule& rule : rules_) {
    if (rule.dir_only && !is_dir) continue;
    if (rule.negated != ignored) continue;  // it could not change the verdict
    std::string_view below = path;
    if (!rule.base.empty()) {
      if (path.size() <= rule.base.size() || path.substr(0, rule.base.size()) != rule.base ||
          path[rule.base.size()] != '/') {
        continue;
      }
      below = path.substr(rule.base.size() + 1);
    }
    bool match = rule.anchored ? GlobMatch(rule.pattern, below) : GlobMatch(rule.pattern, name);
    if (match) ignored = !rule.negated;
  }
  return ignored;
}

}  // namespace moray::runtime_env
