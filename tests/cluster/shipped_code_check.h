// What shipped_code_driver printed, checked: on each of `nodes` nodes a task and a new actor ran
// there, from the node's code cache (never the driver's path), e.g.
//   ExpectRanFromTheCache(driver.out, /*nodes=*/2, "/tmp/x/shipped_code_driver");
#pragma once

#include <map>
#include <regex>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_env.h"

namespace moray::testing {

// Returns, per node id, the "path_here" values its workers reported (for further checks).
inline std::map<std::string, std::set<std::string>> ExpectRanFromTheCache(
    const std::string& out, size_t nodes, const std::string& original_path) {
  const std::regex line("ran kind=(task|actor) want=(\\S+) on=(\\S*) exe=(\\S*) path_here=([01])");
  std::map<std::string, std::set<std::string>> kinds, path_here;
  for (const std::string& text : Lines(out)) {
    std::smatch m;
    if (!std::regex_search(text, m, line)) continue;
    EXPECT_EQ(m[3], m[2]) << "a " << m[1] << " pinned to a node ran elsewhere: " << text;
    const std::string exe = m[4];
    EXPECT_NE(exe.find("/runtime_resources/code/"), std::string::npos)
        << "not run from the node cache: " << text;
    EXPECT_TRUE(exe.ends_with("/shipped_code_driver")) << text;
    EXPECT_NE(exe, original_path) << text;
    kinds[m[2]].insert(m[1]);
    path_here[m[2]].insert(m[5]);
  }
  EXPECT_EQ(kinds.size(), nodes) << out;
  for (const auto& [node, seen] : kinds) {
    EXPECT_EQ(seen, (std::set<std::string>{"actor", "task"})) << node << "\n" << out;
  }
  EXPECT_NE(out.find("\ndone"), std::string::npos) << out;
  return path_here;
}

}  // namespace moray::testing
