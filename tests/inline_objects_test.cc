// Small objects within the store's limits (issue 10): values up to 100 KiB stay in their owner's
// memory only up to the node's --inline-object-memory; past it new ones go to the shared-memory
// store, where its capacity, spilling and full-store error apply as to any other object. A driver
// holding far more small puts than the store holds keeps its own memory bounded, spills, and
// reads every byte back; with a budget of 0 every object goes to the store.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "moray/byte_view.h"
#include "moray/objects.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {
namespace fs = std::filesystem;

constexpr size_t kKiB = size_t(1) << 10;
constexpr size_t kMiB = size_t(1) << 20;

// Bytes that differ for every (seed, position), so a value read back from a spill file or from
// another object shows.
std::vector<uint8_t> Pattern(size_t size, int seed) {
  std::vector<uint8_t> v(size);
  uint64_t x = 0x9e3779b97f4a7c15ull * (static_cast<uint64_t>(seed) + 1);
  for (size_t i = 0; i < size; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v[i] = static_cast<uint8_t>(x >> 56);
  }
  return v;
}

std::vector<uint8_t> SmallReturn(int64_t size, int seed) { return Pattern(size, seed); }
RAY_REMOTE(SmallReturn);

// VmRSS of this process in bytes.
size_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

size_t SpilledBytes(const std::string& session_dir) {
  size_t bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(session_dir + "/spill", ec)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes;
}

std::string LatestSession() {
  std::error_code ec;
  return fs::canonical(moray::testing::PrivateTmpDir::path() + "/session_latest", ec).string();
}

// A 96 MiB store, 8 MiB of owner memory for small values.
class InlineBudgetTest : public ::testing::Test {
 protected:
  static constexpr size_t kStore = 96 * kMiB;
  static constexpr size_t kBudget = 8 * kMiB;
  // One small put or return may be admitted on the budget's edge.
  static constexpr size_t kSlack = 100 * kKiB + 256;

  static void SetUpTestSuite() {
    ray::RayConfig config;
    config.head_args = {"--num-cpus=2", "--object-store-memory=" + std::to_string(kStore),
                        "--inline-object-memory=" + std::to_string(kBudget)};
    ray::Init(config);
  }
  static void TearDownTestSuite() { ray::Shutdown(); }
};

TEST_F(InlineBudgetTest, SmallPutsBeyondTheBudgetGoToTheStoreAndSpill) {
  const std::string session = LatestSession();
  const auto before = moray::GetLocalObjectStats();
  const size_t rss_before = RssBytes();
  // 6,000 puts of 50 KiB: 293 MiB, three times the store and 36 times the budget.
  constexpr int kPuts = 6000;
  constexpr size_t kSize = 50 * kKiB;
  std::vector<ray::ObjectRef<std::vector<uint8_t>>> refs;
  refs.reserve(kPuts);
  size_t most_in_memory = 0;
  for (int i = 0; i < kPuts; ++i) {
    refs.push_back(ray::Put(Pattern(kSize, i)));
    most_in_memory = std::max(most_in_memory, moray::GetLocalObjectStats().in_memory_bytes);
  }
  EXPECT_LE(most_in_memory, kBudget + kSlack) << "owner memory for small values is bounded";
  auto stats = moray::GetLocalObjectStats();
  EXPECT_LE(stats.store_used, kStore);
  // What is not in memory or in the store was spilled to disk.
  const size_t must_spill = kPuts * kSize - kBudget - kStore;
  ASSERT_TRUE(moray::testing::WaitFor([&] { return SpilledBytes(session) >= must_spill; }))
      << SpilledBytes(session) << " bytes spilled; expected at least " << must_spill;
  // Without the bound this process would hold all 293 MiB itself. With it: its budget, the
  // store pages it wrote (mapped shared memory counts in RSS) and a margin for the refs.
  EXPECT_LT(RssBytes() - rss_before, kBudget + kStore + 48 * kMiB)
      << "RSS grew from " << rss_before / kMiB << " MiB to " << RssBytes() / kMiB << " MiB";

  // Every value reads back intact, from memory, the store or a spill file.
  for (int i = 0; i < kPuts; i += 7) {
    ASSERT_EQ(*refs[i].Get(), Pattern(kSize, i)) << "put " << i;
  }
  refs.clear();
  ASSERT_TRUE(moray::testing::WaitFor([&] {
    auto now = moray::GetLocalObjectStats();
    return now.owned == before.owned && now.store_used == before.store_used &&
           SpilledBytes(session) == 0;
  })) << "store used " << moray::GetLocalObjectStats().store_used << ", spilled "
      << SpilledBytes(session);
  EXPECT_LE(moray::GetLocalObjectStats().in_memory_bytes, before.in_memory_bytes);
}

TEST_F(InlineBudgetTest, SmallTaskReturnsBeyondTheBudgetGoToTheStore) {
  // 300 returns of 50 KiB (15 MiB) come back inline in the replies; past the budget the owner
  // keeps them in the store instead.
  constexpr int kTasks = 300;
  constexpr size_t kSize = 50 * kKiB;
  const auto before = moray::GetLocalObjectStats();
  std::vector<ray::ObjectRef<std::vector<uint8_t>>> refs;
  for (int i = 0; i < kTasks; ++i) {
    refs.push_back(ray::Task(SmallReturn).Remote(static_cast<int64_t>(kSize), i));
  }
  auto ready = ray::Wait(refs, kTasks, 120000);
  ASSERT_EQ(ready.ready.size(), static_cast<size_t>(kTasks));
  auto stats = moray::GetLocalObjectStats();
  EXPECT_LE(stats.in_memory_bytes, kBudget + kSlack);
  EXPECT_GE(stats.store_used, before.store_used + kTasks * kSize - kBudget - kSlack)
      << "the returns past the budget are in the store";
  for (int i = 0; i < kTasks; ++i) ASSERT_EQ(*refs[i].Get(), Pattern(kSize, i)) << "task " << i;
}

// A budget of 0: every object, however small, goes to the store — and so meets its full-store
// error when pinned data fills it.
class ZeroBudgetTest : public ::testing::Test {
 protected:
  static constexpr size_t kStore = 32 * kMiB;
  static void SetUpTestSuite() {
    ray::RayConfig config;
    config.head_args = {"--num-cpus=1", "--object-store-memory=" + std::to_string(kStore),
                        "--inline-object-memory=0"};
    ray::Init(config);
  }
  static void TearDownTestSuite() { ray::Shutdown(); }
};

TEST_F(ZeroBudgetTest, EveryObjectGoesToTheStore) {
  const auto before = moray::GetLocalObjectStats();
  auto small = ray::Put(42);
  EXPECT_GT(moray::GetLocalObjectStats().store_used, before.store_used);
  EXPECT_EQ(*small.Get(), 42);
  auto returned = ray::Task(SmallReturn).Remote(int64_t{16}, 3);
  EXPECT_EQ(*returned.Get(), Pattern(16, 3));
  auto view = moray::PutBytes("abc", 3).Get();
  EXPECT_TRUE(moray::GetObjectStoreMapping().Contains(view->data()))
      << "a 3-byte value is read in place from shared memory";
}

TEST_F(ZeroBudgetTest, SmallPutsMeetTheFullStoreErrorWhenPinnedDataFillsIt) {
  // Fill the store with pinned values (live views), coarse then fine, until even 16 KiB fails.
  std::vector<ray::ObjectRef<moray::ByteView>> refs;
  std::vector<std::shared_ptr<moray::ByteView>> views;
  for (size_t chunk : {kMiB, 64 * kKiB, 16 * kKiB}) {
    const std::vector<uint8_t> data = Pattern(chunk, static_cast<int>(chunk));
    for (;;) {
      try {
        refs.push_back(moray::PutBytes(data.data(), data.size()));
      } catch (const ray::internal::RayException& e) {
        ASSERT_NE(std::string(e.what()).find("object store full"), std::string::npos) << e.what();
        break;
      }
      views.push_back(refs.back().Get());
      ASSERT_LE(views.size(), kStore / (16 * kKiB)) << "the store never filled";
    }
  }
  try {
    ray::Put(Pattern(64 * kKiB, 1));
    FAIL() << "a small put into a store full of pinned data succeeded";
  } catch (const ray::internal::RayException& e) {
    EXPECT_NE(std::string(e.what()).find("object store full"), std::string::npos) << e.what();
  }
  // Unpinned, the same put succeeds.
  views.clear();
  refs.clear();
  auto later = ray::Put(Pattern(64 * kKiB, 1));
  EXPECT_EQ(*later.Get(), Pattern(64 * kKiB, 1));
}

}  // namespace
