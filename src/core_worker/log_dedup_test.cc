#include "core_worker/log_dedup.h"

#include <gtest/gtest.h>

#include "core_worker/worker_log_printer.h"

namespace moray::core {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000);

std::vector<std::string> Texts(const std::vector<LogOutput>& lines) {
  std::vector<std::string> texts;
  for (const auto& line : lines) texts.push_back(line.prefix + " " + line.text);
  return texts;
}

TEST(LogDedupTest, PatternDropsWordsWithDigits) {
  EXPECT_EQ(LogDeduplicator::Pattern("step 12 took 3.5s on node-7"), "step took on");
  EXPECT_EQ(LogDeduplicator::Pattern("  hello   world "), "hello world");
  EXPECT_EQ(LogDeduplicator::Pattern("42 17"), "");
}

TEST(LogDedupTest, FirstLinePrintedRepeatsFromOtherProcessesFoldedAfterTheWindow) {
  LogDeduplicator dedup(absl::Seconds(5));
  EXPECT_EQ(Texts(dedup.Add({"(f pid=1)", "loss 0.5", false}, "n:1", kT0)),
            std::vector<std::string>{"(f pid=1) loss 0.5"});
  for (int pid = 2; pid <= 10; ++pid) {
    EXPECT_TRUE(
        dedup
            .Add({"(f pid=" + std::to_string(pid) + ")", "loss 0." + std::to_string(pid), false},
                 "n:" + std::to_string(pid), kT0 + absl::Seconds(1))
            .empty());
  }
  EXPECT_TRUE(dedup.Flush(kT0 + absl::Seconds(4)).empty());
  ASSERT_EQ(dedup.NextDeadline(), kT0 + absl::Seconds(5));
  EXPECT_EQ(Texts(dedup.Flush(kT0 + absl::Seconds(5))),
            std::vector<std::string>{"(f pid=10) loss 0.10 [repeated 9x across cluster]"});
  EXPECT_EQ(dedup.NextDeadline(), std::nullopt);
  // A new window: printed at once again.
  EXPECT_EQ(dedup.Add({"(f pid=3)", "loss 0.1", false}, "n:3", kT0 + absl::Seconds(6)).size(), 1u);
}

TEST(LogDedupTest, RepeatsFromTheSameProcessAreNotFolded) {
  LogDeduplicator dedup(absl::Seconds(5));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(dedup.Add({"(f pid=1)", "tick " + std::to_string(i), false}, "n:1", kT0).size(), 1u);
  }
  EXPECT_TRUE(dedup.Flush(absl::InfiniteFuture()).empty());
}

TEST(LogDedupTest, StreamsAndNumericLinesAreKeptApart) {
  LogDeduplicator dedup(absl::Seconds(5));
  EXPECT_EQ(dedup.Add({"(a)", "warn x", false}, "n:1", kT0).size(), 1u);
  EXPECT_EQ(dedup.Add({"(b)", "warn x", true}, "n:2", kT0).size(), 1u);  // stderr: its own
  EXPECT_EQ(dedup.Add({"(b)", "123", false}, "n:2", kT0).size(), 1u);
  EXPECT_EQ(dedup.Add({"(c)", "456", false}, "n:3", kT0).size(), 1u);
  EXPECT_TRUE(dedup.Add({"(c)", "warn x", true}, "n:3", kT0).empty());
  auto folded = dedup.Flush(absl::InfiniteFuture());
  ASSERT_EQ(folded.size(), 1u);
  EXPECT_TRUE(folded[0].is_err);
  EXPECT_EQ(folded[0].text, "warn x [repeated 1x across cluster]");
}

TEST(LogDedupTest, PrefixIsRaysLook) {
  EXPECT_EQ(WorkerLogPrinter::Prefix("Counter", 12, ""), "(Counter pid=12)");
  EXPECT_EQ(WorkerLogPrinter::Prefix("f", 12, "10.0.0.2"), "(f pid=12, ip=10.0.0.2)");
  EXPECT_EQ(WorkerLogPrinter::Prefix("", 7, ""), "(pid=7)");
}

}  // namespace
}  // namespace moray::core
