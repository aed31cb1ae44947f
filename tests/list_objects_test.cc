// `moray list objects` / `moray summary objects` against real clusters — a `moray start --head`
// cluster joined by this process (a driver), then an embedded one — from the CLI in another
// process: sizes, task statuses and reference types as the driver's objects change, filters, and
// objects disappearing once their references are released.
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

using moray::testing::Lines;
using moray::testing::RunMoray;
using moray::testing::WaitFor;

// Finishes once `path` exists (at most a minute): a dependency the test makes ready at will.
bool WaitForFile(std::string path) { return moray::testing::AwaitFile(path); }
size_t Combine(bool ready, std::string big) { return ready ? big.size() : 0; }
RAY_REMOTE(WaitForFile, Combine);

// One table row of `moray list objects`: the cells after the index.
struct ObjectRow {
  std::string size, status, ref_type, call_site, type, pid, ip;
};

// The rows of `moray list objects <args>` by object id (hex), or nullopt if the command failed.
std::optional<std::multimap<std::string, ObjectRow>> ListObjects(
    const std::vector<std::string>& args) {
  std::vector<std::string> command = {"list", "objects"};
  command.insert(command.end(), args.begin(), args.end());
  auto r = RunMoray(command);
  if (r.exit_code != 0) return std::nullopt;
  std::multimap<std::string, ObjectRow> rows;
  for (const auto& line : Lines(r.out)) {
    std::istringstream in(line);
    std::vector<std::string> cells;
    for (std::string cell; in >> cell;) cells.push_back(cell);
    if (cells.size() != 9 || !std::regex_match(cells[0], std::regex("\\d+"))) continue;
    rows.emplace(cells[1], ObjectRow{cells[2], cells[3], cells[4], cells[5], cells[6], cells[7],
                                     cells[8]});
  }
  return rows;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Puts a small and a large object and submits a task that waits on another task (which waits for
// a file) and takes the large object; checks what the CLI shows, then that everything goes once
// the work is done and the refs are released. `addr`: the CLI's address flags (empty: auto).
void Exercise(const std::vector<std::string>& addr, const std::string& name) {
  const std::string pid = std::to_string(getpid());
  const std::string flag = moray::testing::PrivateTmpDir::path() + "/go-" + name;
  auto list = [&](const std::vector<std::string>& args) { return ListObjects(Concat(addr, args)); };
  auto run = [&](const std::vector<std::string>& args) { return RunMoray(Concat(args, addr)); };

  auto small = std::make_optional(ray::Put(std::string("hello")));
  auto large = std::make_optional(ray::Put(std::string(1 << 20, 'x')));
  auto gate = std::make_optional(ray::Task(WaitForFile).Remote(flag));
  auto combined = std::make_optional(ray::Task(Combine).Remote(*gate, *large));
  const std::string small_id = small->ID(), large_id = large->ID(), gate_id = gate->ID(),
                    combined_id = combined->ID();
  // Only the pending task holds these now.
  large.reset();
  gate.reset();

  std::multimap<std::string, ObjectRow> rows;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto listed = list({"--filter", "pid=" + pid});
        if (!listed || listed->size() != 4) return false;
        rows = *listed;
        return rows.count(gate_id) && rows.find(gate_id)->second.status == "SUBMITTED_TO_WORKER";
      },
      std::chrono::seconds(30)))
      << run({"list", "objects"}).out;
  auto row = [&](const std::string& id) { return rows.find(id)->second; };
  EXPECT_EQ(row(small_id).size, "6");  // a 1-byte msgpack header and "hello"
  EXPECT_EQ(row(small_id).status, "FINISHED");
  EXPECT_EQ(row(small_id).ref_type, "LOCAL_REFERENCE");
  EXPECT_EQ(row(large_id).size, std::to_string((1 << 20) + 5));  // in the shared-memory store
  EXPECT_EQ(row(large_id).status, "FINISHED");
  EXPECT_EQ(row(large_id).ref_type, "USED_BY_PENDING_TASK");
  EXPECT_EQ(row(gate_id).size, "-1");
  EXPECT_EQ(row(gate_id).ref_type, "USED_BY_PENDING_TASK");
  EXPECT_EQ(row(combined_id).size, "-1");
  EXPECT_EQ(row(combined_id).status, "PENDING_ARGS_AVAIL");
  EXPECT_EQ(row(combined_id).ref_type, "LOCAL_REFERENCE");
  for (const auto& [id, r] : rows) {
    EXPECT_EQ(r.call_site, "disabled");
    EXPECT_EQ(r.type, "DRIVER");
    EXPECT_EQ(r.pid, pid);
    EXPECT_EQ(r.ip, "127.0.0.1");
  }

  // Filters (at the GCS, case-insensitive) and the limit.
  auto used = list({"--filter", "pid=" + pid, "--filter", "reference_type=used_by_pending_task"});
  ASSERT_TRUE(used);
  EXPECT_EQ(used->size(), 2u);
  EXPECT_EQ(used->count(large_id), 1u);
  EXPECT_EQ(used->count(gate_id), 1u);
  auto big = list({"--filter", "object_size!=-1", "--filter", "object_id=" + large_id});
  ASSERT_TRUE(big);
  EXPECT_EQ(big->size(), 1u);
  auto limited = run({"list", "objects", "--filter", "pid=" + pid, "--limit", "1"});
  EXPECT_EQ(limited.exit_code, 0);
  EXPECT_NE(limited.err.find("Warning: 1 (out of 4) objects were shown."), std::string::npos)
      << limited.err;
  auto detail = run({"list", "objects", "--filter", "object_id=" + small_id, "--detail",
                     "--format", "yaml"});
  EXPECT_EQ(detail.exit_code, 0);
  EXPECT_NE(detail.out.find("is_owner: true"), std::string::npos) << detail.out;
  EXPECT_NE(detail.out.find("local_refs: 1"), std::string::npos) << detail.out;

  // The summary's totals match the list.
  auto summary = run({"summary", "objects"});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  auto all = list({});
  ASSERT_TRUE(all);
  auto lines = Lines(summary.out);
  ASSERT_GE(lines.size(), 12u) << summary.out;
  EXPECT_TRUE(std::regex_match(lines[0], std::regex("======== Object Summary: .* ========")));
  EXPECT_EQ(lines[3], "callsite_enabled: false");
  EXPECT_EQ(lines[4], "total_objects: " + std::to_string(all->size())) << summary.out;
  EXPECT_EQ(lines[5], "total_size_mb: 1.00001") << summary.out;  // 6 + 2^20 + 5 bytes, in MiB
  EXPECT_EQ(lines[8], "Table (group by callsite):");
  EXPECT_TRUE(std::regex_search(
      summary.out, std::regex("0   disabled +" + std::to_string(all->size()) + " +1.00001 +1 +1 ")))
      << summary.out;
  EXPECT_NE(summary.out.find("USED_BY_PENDING_TASK: 2"), std::string::npos) << summary.out;

  // Let the work finish, release everything: the objects go.
  std::ofstream(flag) << "go";
  EXPECT_EQ(*combined->Get(), size_t(1) << 20);
  ASSERT_TRUE(WaitFor([&] {
    auto listed = list({"--filter", "object_id=" + combined_id});
    return listed && listed->size() == 1 && listed->begin()->second.status == "FINISHED" &&
           listed->begin()->second.size != "-1";
  }));
  small.reset();
  combined.reset();
  ASSERT_TRUE(WaitFor([&] {
    auto listed = list({"--filter", "pid=" + pid});
    return listed && listed->empty();
  })) << run({"list", "objects"}).out;
  auto none = run({"list", "objects", "--filter", "pid=" + pid});
  EXPECT_NE(none.out.find("No resource in the cluster"), std::string::npos) << none.out;
}

TEST(ListObjectsTest, StartedCluster) {
  std::string error;
  const std::string address = moray::testing::StartHead(&error);
  ASSERT_FALSE(address.empty()) << error;
  ray::RayConfig config;
  config.address = address;
  ray::Init(config);
  Exercise({"--address", address}, "started");
  // A driver's objects go with its job.
  auto kept = ray::Put(std::string("kept"));
  const std::string pid = std::to_string(getpid());
  EXPECT_TRUE(WaitFor([&] {
    auto listed = ListObjects({"--address", address, "--filter", "pid=" + pid});
    return listed && listed->size() == 1;
  }));
  ray::Shutdown();
  EXPECT_TRUE(WaitFor([&] {
    auto listed = ListObjects({"--address", address});
    return listed && listed->empty();
  }));
  auto stopped = RunMoray({"stop"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

TEST(ListObjectsTest, EmbeddedClusterFoundByTheCli) {
  ray::RayConfig config;
  config.head_args = {"--num-cpus=2"};
  ray::Init(config);
  Exercise({}, "embedded");  // the CLI finds the driver's cluster by itself (--address auto)
  ray::Shutdown();
}

}  // namespace
