#include "runtime_env/ignore_rules.h"

#include "gtest/gtest.h"

namespace moray::runtime_env {
namespace {

TEST(GlobMatchTest, Forms) {
  EXPECT_TRUE(GlobMatch("*.log", "a.log"));
  EXPECT_FALSE(GlobMatch("*.log", "dir/a.log"));  // `*` stops at '/'
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "a/c"));
  EXPECT_TRUE(GlobMatch("[abc].txt", "b.txt"));
  EXPECT_FALSE(GlobMatch("[abc].txt", "d.txt"));
  EXPECT_TRUE(GlobMatch("[a-c]x", "bx"));
  EXPECT_TRUE(GlobMatch("[!a-c]x", "dx"));
  EXPECT_FALSE(GlobMatch("[!a-c]x", "ax"));
  EXPECT_TRUE(GlobMatch("**/x", "x"));
  EXPECT_TRUE(GlobMatch("**/x", "a/b/x"));
  EXPECT_TRUE(GlobMatch("a/**", "a/b/c"));
  EXPECT_TRUE(GlobMatch("a/**/b", "a/b"));
  EXPECT_TRUE(GlobMatch("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(GlobMatch("a/**/b", "a/x/y/c"));
  EXPECT_TRUE(GlobMatch("\\*", "*"));
  EXPECT_FALSE(GlobMatch("\\*", "x"));
  EXPECT_TRUE(GlobMatch("[x", "[x"));  // an unclosed class is a literal
  // `**` not forming a whole segment is a plain `*`, as in git.
  EXPECT_TRUE(GlobMatch("a**b", "axyb"));
  EXPECT_FALSE(GlobMatch("a**b", "ax/yb"));
  EXPECT_TRUE(GlobMatch("**", "x/y/z"));
}

TEST(ParseIgnoreFileTest, DropsCommentsAndBlanks) {
  EXPECT_EQ(ParseIgnoreFile("# c\n\n*.o  \r\n!keep.o\n\\#hash\n"),
            (std::vector<std::string>{"*.o", "!keep.o", "\\#hash"}));
}

TEST(IgnoreRulesTest, UnanchoredMatchesNameAtAnyDepth) {
  IgnoreRules r;
  r.Add("", {"*.log"});
  EXPECT_TRUE(r.Ignored("a.log", false));
  EXPECT_TRUE(r.Ignored("x/y/a.log", false));
  EXPECT_FALSE(r.Ignored("a.txt", false));
}

TEST(IgnoreRulesTest, LeadingSlashAnchors) {
  IgnoreRules r;
  r.Add("", {"/build"});
  EXPECT_TRUE(r.Ignored("build", true));
  EXPECT_FALSE(r.Ignored("src/build", true));
}

TEST(IgnoreRulesTest, InnerSlashAnchors) {
  IgnoreRules r;
  r.Add("", {"doc/*.md"});
  EXPECT_TRUE(r.Ignored("doc/a.md", false));
  EXPECT_FALSE(r.Ignored("x/doc/a.md", false));
}

TEST(IgnoreRulesTest, TrailingSlashMeansDirectoriesOnly) {
  IgnoreRules r;
  r.Add("", {"out/"});
  EXPECT_TRUE(r.Ignored("out", true));
  EXPECT_TRUE(r.Ignored("a/out", true));
  EXPECT_FALSE(r.Ignored("out", false));
}

TEST(IgnoreRulesTest, NegationReincludesAndLastRuleWins) {
  IgnoreRules r;
  r.Add("", {"*.log", "!keep.log"});
  EXPECT_TRUE(r.Ignored("a.log", false));
  EXPECT_FALSE(r.Ignored("keep.log", false));
  r.Add("", {"keep.log"});
  EXPECT_TRUE(r.Ignored("keep.log", false));
}

TEST(IgnoreRulesTest, RulesApplyOnlyBelowTheirDirectory) {
  IgnoreRules r;
  r.Add("sub", {"*.tmp", "/only_here"});
  EXPECT_TRUE(r.Ignored("sub/a.tmp", false));
  EXPECT_TRUE(r.Ignored("sub/deep/a.tmp", false));
  EXPECT_FALSE(r.Ignored("a.tmp", false));
  EXPECT_FALSE(r.Ignored("subx/a.tmp", false));
  EXPECT_TRUE(r.Ignored("sub/only_here", false));
  EXPECT_FALSE(r.Ignored("sub/deep/only_here", false));
}

TEST(IgnoreRulesTest, DeeperFileOverridesShallower) {
  IgnoreRules r;
  r.Add("", {"*.dat"});
  r.Add("keep", {"!*.dat"});
  EXPECT_TRUE(r.Ignored("a.dat", false));
  EXPECT_FALSE(r.Ignored("keep/a.dat", false));
}

TEST(IgnoreRulesTest, DoubleStarPatterns) {
  IgnoreRules r;
  r.Add("", {"**/cache", "logs/**", "a/**/z"});
  EXPECT_TRUE(r.Ignored("cache", true));
  EXPECT_TRUE(r.Ignored("x/y/cache", true));
  EXPECT_TRUE(r.Ignored("logs/today.txt", false));
  EXPECT_FALSE(r.Ignored("logs", true));
  EXPECT_TRUE(r.Ignored("a/z", false));
  EXPECT_TRUE(r.Ignored("a/b/c/z", false));
}

}  // namespace
}  // namespace moray::runtime_env
