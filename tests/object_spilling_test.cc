// A full object store, through the public API only: a 128 MiB store given a working set three
// times its size spills to disk and restores on Get, byte for byte, and its spill files go away
// with the refs; pinned data alone beyond the capacity gives a clear ObjectStoreFull error from
// Put and from a task's large return, and loses nothing already stored.
#include <algorithm>
#include <cstring>
#include <filesystem>
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

constexpr size_t kMiB = size_t(1) << 20;
constexpr size_t kStoreBytes = 128 * kMiB;
constexpr size_t kObjectBytes = 8 * kMiB;

// Deterministic bytes that differ for every (seed, position): a misplaced or stale block shows.
std::vector<uint8_t> Pattern(size_t size, int seed) {
  std::vector<uint8_t> v(size);
  uint64_t x = 0x9e3779b97f4a7c15ull * (static_cast<uint64_t>(seed) + 1);
  for (size_t i = 0; i < size; i += 8) {
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    std::memcpy(v.data() + i, &z, std::min<size_t>(8, size - i));
  }
  return v;
}

bool SameBytes(const uint8_t* data, size_t size, const std::vector<uint8_t>& expected) {
  return size == expected.size() && std::memcmp(data, expected.data(), size) == 0;
}

// A task's large return value: sealed in the node's store by the worker on the driver's behalf.
std::vector<uint8_t> MakePattern(int64_t size, int seed) { return Pattern(size, seed); }
// Reads its argument (a ref to a possibly spilled object) in a worker.
bool Matches(std::vector<uint8_t> bytes, int seed) { return bytes == Pattern(bytes.size(), seed); }

RAY_REMOTE(MakePattern, Matches);

struct SpillDirState {
  size_t files = 0;
  uint64_t bytes = 0;
};

class ObjectSpillingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ray::RayConfig config;
    config.head_args = {"--num-cpus=2", "--object-store-memory=" + std::to_string(kStoreBytes)};
    ray::Init(config);
    // This binary's only cluster; its session is the latest under the private MORAY_TMPDIR.
    std::error_code ec;
    session_dir_ = fs::canonical(moray::testing::PrivateTmpDir::path() + "/session_latest", ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  static void TearDownTestSuite() { ray::Shutdown(); }

  static std::string SpillDir() { return session_dir_ + "/spill"; }

  static SpillDirState SpillFiles() {
    SpillDirState state;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(SpillDir(), ec)) {
      if (!entry.is_regular_file()) continue;
      state.files++;
      state.bytes += entry.file_size();
    }
    return state;
  }

  // Everything this test put is gone: refs, values, store memory and spill files.
  static bool BackToBaseline(const moray::LocalObjectStats& before) {
    auto now = moray::GetLocalObjectStats();
    return now.owned == before.owned && now.in_memory == before.in_memory &&
           now.store_used == before.store_used && SpillFiles().files == 0;
  }

  static std::string session_dir_;
};
std::string ObjectSpillingTest::session_dir_;

TEST_F(ObjectSpillingTest, WorkingSetThreeTimesTheStoreSpillsAndRestoresEveryByte) {
  auto before = moray::GetLocalObjectStats();
  ASSERT_EQ(SpillFiles().files, 0u);
  constexpr int kObjects = 3 * kStoreBytes / kObjectBytes;  // 48 × 8 MiB = 384 MiB
  std::vector<ray::ObjectRef<std::vector<uint8_t>>> refs;
  std::vector<ray::ObjectRef<std::vector<uint8_t>>> returns;
  for (int i = 0; i < kObjects; ++i) {
    if (i % 2 == 0) {
      refs.push_back(ray::Put(Pattern(kObjectBytes, i)));
    } else {
      refs.push_back(ray::Task(MakePattern).Remote(static_cast<int64_t>(kObjectBytes), i));
      returns.push_back(refs.back());
    }
  }
  // Every task has stored its return (Wait does not read the values). The result holds refs
  // too, so it goes out of scope here.
  {
    auto ready = ray::Wait(returns, static_cast<int>(returns.size()), 60000);
    ASSERT_EQ(ready.ready.size(), returns.size());
  }

  // At most the store's capacity is in memory; the rest (at least 256 MiB) is in spill files in
  // the session's spill directory.
  auto stats = moray::GetLocalObjectStats();
  EXPECT_LE(stats.store_used, kStoreBytes);
  const uint64_t must_spill = kObjects * kObjectBytes - kStoreBytes;
  ASSERT_TRUE(moray::testing::WaitFor([&] { return SpillFiles().bytes >= must_spill; }))
      << SpillFiles().files << " spill files of " << SpillFiles().bytes << " bytes in "
      << SpillDir() << "; expected at least " << must_spill << " bytes spilled";

  // Read everything back, oldest first (those were spilled first), then newest first: each Get
  // of a spilled object restores it, spilling others.
  for (int pass = 0; pass < 2; ++pass) {
    for (int n = 0; n < kObjects; ++n) {
      int i = pass == 0 ? n : kObjects - 1 - n;
      auto value = refs[i].Get();
      ASSERT_TRUE(SameBytes(value->data(), value->size(), Pattern(kObjectBytes, i)))
          << "object " << i << " (" << (i % 2 ? "task return" : "put") << ") differs after "
          << "restore, pass " << pass;
    }
  }
  // A worker reads a spilled object too (the driver's last pass left the oldest ones on disk).
  EXPECT_TRUE(*ray::Task(Matches).Remote(refs[kObjects - 1], kObjects - 1).Get());
  EXPECT_TRUE(*ray::Task(Matches).Remote(refs[0], 0).Get());
  EXPECT_GT(SpillFiles().files, 0u) << "the oldest objects are spilled again";

  // Released refs take their memory and their spill files with them.
  refs.clear();
  returns.clear();
  ASSERT_TRUE(moray::testing::WaitFor([&] { return BackToBaseline(before); }))
      << "spill files left: " << SpillFiles().files << " (" << SpillFiles().bytes
      << " bytes); store used " << moray::GetLocalObjectStats().store_used << " (baseline "
      << before.store_used << ")";
}

TEST_F(ObjectSpillingTest, PinnedDataBeyondCapacityIsObjectStoreFullAndLosesNothing) {
  auto before = moray::GetLocalObjectStats();
  // 15 × 8 MiB pinned by live ByteViews: 120 MiB of the 128 MiB store cannot move.
  constexpr int kPinned = 15;
  std::vector<ray::ObjectRef<moray::ByteView>> refs;
  std::vector<std::shared_ptr<moray::ByteView>> views;
  for (int i = 0; i < kPinned; ++i) {
    auto data = Pattern(kObjectBytes, 100 + i);
    refs.push_back(moray::PutBytes(data.data(), data.size()));
    views.push_back(refs.back().Get());
  }

  // A put that cannot fit: a clear error from Put.
  try {
    ray::Put(Pattern(16 * kMiB, 1));
    FAIL() << "a 16 MiB put into a store with 120 of 128 MiB pinned succeeded";
  } catch (const ray::internal::RayException& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("object store full"), std::string::npos) << message;
    EXPECT_NE(message.find("pinned"), std::string::npos) << message;
  }
  // A task whose large return cannot be stored: the task fails, and Get says why.
  auto made = ray::Task(MakePattern).Remote(static_cast<int64_t>(16 * kMiB), 2);
  try {
    made.Get();
    FAIL() << "a 16 MiB task return into a store with 120 of 128 MiB pinned succeeded";
  } catch (const ray::internal::RayException& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("object store full"), std::string::npos) << message;
    EXPECT_NE(message.find("MakePattern"), std::string::npos) << message;
  }

  // Nothing is lost: the pinned objects are intact, and still there once unpinned.
  for (int i = 0; i < kPinned; ++i) {
    ASSERT_TRUE(SameBytes(views[i]->data(), views[i]->size(), Pattern(kObjectBytes, 100 + i)))
        << "pinned object " << i;
  }
  views.clear();
  // With the pins gone the store can spill again, so the same put succeeds.
  auto later = ray::Put(Pattern(16 * kMiB, 1));
  auto later_value = later.Get();
  EXPECT_TRUE(SameBytes(later_value->data(), later_value->size(), Pattern(16 * kMiB, 1)));
  later_value.reset();
  for (int i = 0; i < kPinned; ++i) {
    auto view = refs[i].Get();
    ASSERT_TRUE(SameBytes(view->data(), view->size(), Pattern(kObjectBytes, 100 + i)))
        << "object " << i << " after the failed puts";
  }

  refs.clear();
  later = ray::ObjectRef<std::vector<uint8_t>>();
  made = ray::ObjectRef<std::vector<uint8_t>>();
  ASSERT_TRUE(moray::testing::WaitFor([&] { return BackToBaseline(before); }))
      << "store used " << moray::GetLocalObjectStats().store_used << " (baseline "
      << before.store_used << "), spill files " << SpillFiles().files;
}

}  // namespace
