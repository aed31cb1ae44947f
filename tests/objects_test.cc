// Large objects through the node's shared-memory object store: puts, task returns and by-value
// arguments above 100 KiB; zero-copy reads with moray::ByteView; memory returning to its baseline.
#include <fstream>
#include <memory>
#include <numeric>
#include <string>

#include "gtest/gtest.h"
#include "moray/byte_view.h"
#include "moray/objects.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

uint64_t Checksum(const uint8_t* data, size_t size) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  return h;
}

std::vector<uint8_t> Pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<uint8_t>(i * 31 + seed);
  return v;
}

std::vector<uint8_t> MakeLarge(int mib, int seed) { return Pattern(size_t(mib) << 20, seed); }
uint64_t Sum(std::vector<uint8_t> bytes) { return Checksum(bytes.data(), bytes.size()); }

RAY_REMOTE(MakeLarge, Sum);

class ObjectsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ray::RayConfig config;
    config.head_args = {"--num-cpus=2", "--object-store-memory=536870912"};
    ray::Init(config);
  }
  static void TearDownTestSuite() { ray::Shutdown(); }
};

TEST_F(ObjectsTest, LargePutRoundTrips) {
  auto data = Pattern(10 << 20, 7);
  auto ref = ray::Put(data);
  auto back = ref.Get();
  ASSERT_EQ(back->size(), data.size());
  EXPECT_EQ(Checksum(back->data(), back->size()), Checksum(data.data(), data.size()));
}

TEST_F(ObjectsTest, LargeReturnsAndArgumentsTravelThroughTheStore) {
  auto made = ray::Task(MakeLarge).Remote(6, 3);
  auto expected = Pattern(6 << 20, 3);
  auto value = made.Get();
  EXPECT_EQ(Checksum(value->data(), value->size()), Checksum(expected.data(), expected.size()));
  // The large return, passed on by reference, and a large by-value argument.
  EXPECT_EQ(*ray::Task(Sum).Remote(made).Get(), Checksum(expected.data(), expected.size()));
  auto local = Pattern(8 << 20, 9);
  EXPECT_EQ(*ray::Task(Sum).Remote(local).Get(), Checksum(local.data(), local.size()));
}

TEST_F(ObjectsTest, ByteViewReadsInPlace) {
  auto data = Pattern(64 << 20, 1);
  auto ref = moray::PutBytes(data.data(), data.size());
  auto view = ref.Get();
  ASSERT_EQ(view->size(), data.size());
  auto mapping = moray::GetObjectStoreMapping();
  EXPECT_TRUE(mapping.Contains(view->data())) << "the view must point into shared memory";
  EXPECT_TRUE(mapping.Contains(view->data() + view->size() - 1));
  EXPECT_EQ(view->data(), ref.Get()->data()) << "two Gets see the same bytes: no copies";
  EXPECT_EQ(Checksum(view->data(), view->size()), Checksum(data.data(), data.size()));
  // The same object read as a vector (a copy) and by a task.
  ray::ObjectRef<std::vector<uint8_t>> as_vector(ref.BinaryID());
  EXPECT_EQ(as_vector.Get()->size(), data.size());
}

// This process's private (anonymous) resident memory: a copy of an object would land here; a
// view of the store does not (the store's pages count as shared memory).
int64_t RssAnonBytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stoll(line.substr(8)) * 1024;  // in kB
  }
  return -1;
}

// Reading a large object costs no copy, whatever its size (how long a Get takes is measured by
// `make bench`, not asserted here).
TEST_F(ObjectsTest, GettingALargeObjectCopiesNothing) {
  const size_t size = 256 << 20;
  auto big = [&] {
    auto data = Pattern(size, 4);
    return moray::PutBytes(data.data(), data.size());
  }();  // the source vector is freed here
  const int64_t before = RssAnonBytes();
  ASSERT_GT(before, 0);
  std::vector<std::shared_ptr<moray::ByteView>> views;
  for (int i = 0; i < 5; ++i) views.push_back(big.Get());
  const int64_t grown = RssAnonBytes() - before;
  RecordProperty("private_memory_growth_bytes", std::to_string(grown));
  auto mapping = moray::GetObjectStoreMapping();
  for (const auto& view : views) {
    ASSERT_EQ(view->size(), size);
    EXPECT_TRUE(mapping.Contains(view->data()));
    EXPECT_TRUE(mapping.Contains(view->data() + view->size() - 1));
    EXPECT_EQ(view->data(), views[0]->data());
  }
  // Five Gets of 256 MiB held at once: five copies would be 1.25 GiB of private memory.
  EXPECT_LT(grown, int64_t{16} << 20) << "private memory grew by " << grown << " bytes";
  EXPECT_EQ(Checksum(views[0]->data(), size), Checksum(Pattern(size, 4).data(), size));
}

TEST_F(ObjectsTest, MemoryReturnsToBaselineWhenRefsGoAway) {
  auto before = moray::GetLocalObjectStats();
  {
    auto a = ray::Put(Pattern(4 << 20, 5));
    EXPECT_GE(moray::GetLocalObjectStats().store_used, before.store_used + (4u << 20));
    auto b = ray::Task(MakeLarge).Remote(4, 6);
    EXPECT_EQ(b.Get()->size(), size_t(4) << 20);
    EXPECT_EQ(*ray::Task(Sum).Remote(a).Get(), Sum(Pattern(4 << 20, 5)));
  }
  ASSERT_TRUE(moray::testing::WaitFor([&] {
    auto after = moray::GetLocalObjectStats();
    return after.owned == before.owned && after.in_memory == before.in_memory &&
           after.store_used == before.store_used;
  }));
}

}  // namespace
