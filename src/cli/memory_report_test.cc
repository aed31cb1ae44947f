#include "cli/memory_report.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace moray::cli {
namespace {

std::string Bytes(char fill, size_t n) { return std::string(n, fill); }

proto::ObjectRecord Record(const std::string& id, int64_t size, bool owner, int pid,
                           const std::string& type, const std::string& node) {
  proto::ObjectRecord r;
  r.set_object_id(id);
  r.set_object_size(size);
  r.set_is_owner(owner);
  r.set_reference_type(owner ? "LOCAL_REFERENCE" : "BORROWED");
  r.set_local_refs(1);
  r.set_pid(pid);
  r.set_ip("10.0.0.1");
  r.set_type(type);
  r.set_worker_id(Bytes(static_cast<char>(pid), 16));
  r.set_node_id(node);
  return r;
}

class MemoryReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_a_.set_node_id(Bytes('\xaa', 16));
    node_a_.set_node_ip("10.0.0.1");
    node_b_.set_node_id(Bytes('\xbb', 16));
    node_b_.set_node_ip("10.0.0.2");
    // A large put owned by the driver (pid 7) on A, read by a worker (pid 9) on B; a small value
    // owned by the driver; a pending return.
    *inputs_.objects.add_objects() = Record(big_, 5 << 20, true, 7, "DRIVER", node_a_.node_id());
    *inputs_.objects.add_objects() = Record(big_, 5 << 20, false, 9, "WORKER", node_b_.node_id());
    *inputs_.objects.add_objects() = Record(small_, 100, true, 7, "DRIVER", node_a_.node_id());
    *inputs_.objects.add_objects() = Record(pending_, -1, true, 7, "DRIVER", node_a_.node_id());
    inputs_.objects.set_num_dropped(3);
    proto::ListStoreObjectsReply a;
    a.set_node_id(node_a_.node_id());
    auto* copy = a.add_objects();
    copy->set_object_id(big_);
    copy->set_size(5 << 20);
    copy->set_primary(true);
    copy->set_pins(1);
    copy->set_sealed(true);
    a.set_total(1);
    a.set_num_primary(1);
    a.set_total_bytes(5 << 20);
    a.set_used(5 << 20);
    a.set_capacity(100 << 20);
    proto::ListStoreObjectsReply b = a;
    b.set_node_id(node_b_.node_id());
    b.mutable_objects(0)->set_primary(false);
    b.mutable_objects(0)->set_pins(0);
    b.set_num_primary(0);
    b.set_num_secondary(1);
    inputs_.stores.push_back({.node = node_a_, .listing = a});
    inputs_.stores.push_back({.node = node_b_, .listing = b});
  }
  const std::string big_ = Bytes('\x01', 20);
  const std::string small_ = Bytes('\x02', 20);
  const std::string pending_ = Bytes('\x03', 20);
  proto::NodeInfo node_a_, node_b_;
  MemoryInputs inputs_;
};

TEST_F(MemoryReportTest, JoinsOwnersReferencesAndCopiesPerObject) {
  MemoryReport report = BuildMemoryReport(inputs_);
  ASSERT_EQ(report.objects.size(), 3u);
  const MemoryObject& big = report.objects[0];  // largest first
  EXPECT_EQ(big.object_id, "0101010101010101010101010101010101010101");
  EXPECT_EQ(big.size, 5 << 20);
  EXPECT_EQ(big.owner_pid, 7);
  EXPECT_EQ(big.owner_type, "DRIVER");
  ASSERT_EQ(big.references.size(), 2u);
  EXPECT_TRUE(big.references[0].is_owner);
  EXPECT_EQ(big.references[1].pid, 9);
  ASSERT_EQ(big.copies.size(), 2u);
  EXPECT_TRUE(big.copies[0].primary);
  EXPECT_EQ(big.copies[0].node_id, std::string(32, 'a'));
  EXPECT_FALSE(big.copies[1].primary);
  EXPECT_EQ(big.copies[1].node_id, std::string(32, 'b'));
  EXPECT_FALSE(big.in_owner_memory);
  EXPECT_TRUE(report.objects[1].in_owner_memory);   // small: no copy, the owner has it
  EXPECT_FALSE(report.objects[2].in_owner_memory);  // pending: no value yet
  EXPECT_EQ(report.num_dropped, 3);
}

TEST_F(MemoryReportTest, TextShowsLocationsGroupsUnitsAndNotes) {
  MemoryOptions options;
  options.units = "MB";
  const std::string text =
      FormatMemoryReport(BuildMemoryReport(inputs_), options, absl::FromUnixSeconds(0));
  EXPECT_NE(text.find("Object references status"), std::string::npos) << text;
  EXPECT_NE(text.find("Objects owned on node " + std::string(32, 'a') + " (10.0.0.1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("5.00 MB"), std::string::npos) << text;
  EXPECT_NE(text.find("primary@aaaaaaaa (pinned 1); secondary@bbbbbbbb"), std::string::npos)
      << text;
  EXPECT_NE(text.find("10.0.0.1 pid=7 DRIVER"), std::string::npos) << text;
  EXPECT_NE(text.find("LOCAL_REFERENCE pid=7 (owner, 1 local); BORROWED pid=9 (1 local)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("owner memory"), std::string::npos) << text;
  EXPECT_NE(text.find("pending (no value yet)"), std::string::npos) << text;
  EXPECT_NE(text.find("--- Object store per node ---"), std::string::npos) << text;
  EXPECT_NE(text.find("100.00 MB"), std::string::npos) << text;
  EXPECT_NE(text.find("2 copies in object stores (1 primary, 1 secondary)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("left 3 objects out"), std::string::npos) << text;

  options.group_by = MemoryGroupBy::kOwner;
  options.num_entries = 1;
  const std::string by_owner =
      FormatMemoryReport(BuildMemoryReport(inputs_), options, absl::FromUnixSeconds(0));
  EXPECT_NE(by_owner.find("Objects owned by 10.0.0.1 pid=7 DRIVER"), std::string::npos) << by_owner;
  EXPECT_NE(by_owner.find("2 more objects in this group not shown"), std::string::npos) << by_owner;

  options.stats_only = true;
  const std::string stats =
      FormatMemoryReport(BuildMemoryReport(inputs_), options, absl::FromUnixSeconds(0));
  EXPECT_EQ(stats.find("OBJECT_ID"), std::string::npos) << stats;
  EXPECT_NE(stats.find("--- Totals ---"), std::string::npos) << stats;
}

TEST_F(MemoryReportTest, ANodeThatDidNotAnswerIsShownAsUnavailable) {
  inputs_.stores[1].listing = absl::UnavailableError("connection refused");
  const std::string text =
      FormatMemoryReport(BuildMemoryReport(inputs_), {}, absl::FromUnixSeconds(0));
  EXPECT_NE(text.find("unavailable: connection refused"), std::string::npos) << text;
  EXPECT_EQ(text.find("secondary@bbbbbbbb"), std::string::npos) << text;
}

TEST(MemoryOptionsTest, FlagsParseOrSayWhatIsAllowed) {
  EXPECT_EQ(*ParseMemoryGroupBy("owner"), MemoryGroupBy::kOwner);
  EXPECT_EQ(*ParseMemoryGroupBy("NODE"), MemoryGroupBy::kNode);
  EXPECT_EQ(ParseMemoryGroupBy("stack").status().message(),
            "--group-by must be node or owner, not 'stack'");
  EXPECT_EQ(*ParseMemoryUnits("mb"), "MB");
  EXPECT_EQ(ParseMemoryUnits("TB").status().message(),
            "--units must be one of B, KB, MB or GB, not 'TB'");
  EXPECT_EQ(FormatMemorySize(1536, "KB"), "1.50 KB");
  EXPECT_EQ(FormatMemorySize(1536, "B"), "1536 B");
  EXPECT_EQ(FormatMemorySize(-1, "MB"), "?");
}

}  // namespace
}  // namespace moray::cli
