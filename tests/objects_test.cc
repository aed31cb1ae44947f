// Large objects through the node's shared-memory object store: puts, task returns and by-value
// arguments above 100 KiB; zero-copy reads with moray::ByteView; memory returning to its baseline.
#include <chrono>
#include <numeric>

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

TEST_F(ObjectsTest, GetTimeDoesNotGrowWithObjectSize) {
  auto small = moray::PutBytes(Pattern(1 << 20, 2).data(), 1 << 20);
  auto big_data = Pattern(256 << 20, 4);
  auto big = moray::PutBytes(big_data.data(), big_data.size());
  big_data = {};
  auto time_get = [](const ray::ObjectRef<moray::ByteView>& ref) {
    auto best = std::chrono::nanoseconds::max();
    for (int i = 0; i < 5; ++i) {
      auto start = std::chrono::steady_clock::now();
      auto view = ref.Get();
      best = std::min(best, std::chrono::steady_clock::now() - start);
    }
    return best;
  };
  auto small_time = time_get(small);
  auto big_time = time_get(big);
  // A copy of 256 MiB takes tens of milliseconds here; a view takes a round trip either way.
  EXPECT_LT(big_time, small_time * 20 + std::chrono::milliseconds(5))
      << "1 MiB: " << small_time.count() << " ns, 256 MiB: " << big_time.count() << " ns";
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
