// Gitignore-style rules deciding which entries of a working_dir are left out of its package.
//
//   IgnoreRules rules;
//   rules.Add("", {"*.log", "!keep.log", "/build/"});   // `excludes`, relative to the root
//   rules.Add("sub", ParseIgnoreFile(text_of_sub_gitignore));  // applies below sub/
//   rules.Ignored("sub/a.log", /*is_dir=*/false);       // -> true
//
// Forms: `*` (any run without `/`), `**` (any run of whole directories: `**/x`, `a/**`,
// `a/**/b`), `?`, `[abc]` / `[a-z]` / `[!a]`, `\` escapes, a leading `/` or any inner `/`
// anchors the pattern to the directory of its rules (otherwise it matches a name at any depth
// below it), a trailing `/` matches directories only, a leading `!` re-includes. The last rule
// that matches decides; rules added later (deeper directories) come after earlier ones. As in
// git, nothing inside an ignored directory can be re-included (the packer does not descend).
//
// Thread model: not synchronised; build, then read from one thread or many.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moray::runtime_env {

// The pattern lines of a .gitignore file: blank lines and `#` comments dropped, trailing
// unescaped spaces trimmed.
std::vector<std::string> ParseIgnoreFile(std::string_view text);

// Whether glob `pattern` matches all of `text` (forms above; no anchoring logic).
bool GlobMatch(std::string_view pattern, std::string_view text);

class IgnoreRules {
 public:
  // Adds `patterns` applying to paths below `base` ("" for the root; no trailing slash).
  void Add(std::string_view base, const std::vector<std::string>& patterns);
  // Whether `path` (relative to the root, `/`-separated) is ignored.
  bool Ignored(std::string_view path, bool is_dir) const;
  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    std::string base;     // "" or "dir/sub"
    std::string pattern;  // without `!`, leading and trailing `/`
    bool negated = false;
    bool dir_only = false;
    bool anchored = false;  // matched against the path below `base`, not only the name
  };
  std::vector<Rule> rules_;
};

}  // namespace moray::runtime_env
