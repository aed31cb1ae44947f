#include "core_worker/memory_store.h"

#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace moray::core {
namespace {

StoredObject Value(const std::string& s) {
  return {std::make_shared<ray::internal::StringBuffer>(s), {}};
}

TEST(MemoryStoreTest, WaitAllReturnsInInputOrderOnceEverythingIsReady) {
  MemoryStore store;
  store.Put("a", Value("1"));
  std::thread producer([&] {
    store.Put("c", Value("3"));
    store.Put("b", Value("2"));
  });
  auto objects = store.WaitAll({"c", "a", "b", "a"}, absl::InfiniteFuture());
  producer.join();
  ASSERT_TRUE(objects.has_value());
  ASSERT_EQ(objects->size(), 4u);
  EXPECT_EQ(std::string((*objects)[0].data->Data(), 1), "3");
  EXPECT_EQ(std::string((*objects)[1].data->Data(), 1), "1");
  EXPECT_EQ(std::string((*objects)[2].data->Data(), 1), "2");
  EXPECT_EQ(std::string((*objects)[3].data->Data(), 1), "1");
}

TEST(MemoryStoreTest, BytesCountValuesAndEntriesUntilDeleted) {
  MemoryStore store;
  EXPECT_EQ(store.bytes(), 0);
  store.Put("a", Value(std::string(1000, 'x')));
  EXPECT_EQ(store.bytes(), 1000 + kEntryOverhead);
  store.Put("a", Value(std::string(5000, 'y')));  // ignored: the first result wins
  EXPECT_EQ(store.bytes(), 1000 + kEntryOverhead);
  StoredObject in_plasma;
  in_plasma.in_plasma = true;
  in_plasma.size = 1 << 20;  // its bytes live in the shared-memory store
  store.Put("b", in_plasma);
  EXPECT_EQ(store.bytes(), 1000 + kEntryOverhead);
  store.Delete("a");
  store.Delete("a");  // a second delete changes nothing
  EXPECT_EQ(store.bytes(), 0);
  store.Delete("b");
  EXPECT_EQ(store.bytes(), 0);
}

TEST(MemoryStoreTest, WaitAllTimesOut) {
  MemoryStore store;
  absl::Time start = absl::Now();
  EXPECT_FALSE(store.WaitAll({"missing"}, absl::Now() + absl::Milliseconds(50)).has_value());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));
  // The timed-out waiter must be unregistered: a later Put cannot touch it.
  store.Put("missing", Value("x"));
  EXPECT_TRUE(store.WaitAll({"missing"}, absl::InfinitePast()).has_value());
}

TEST(MemoryStoreTest, APollWithAPastDeadlineAnswersAtOnce) {
  MemoryStore store;
  store.Put("a", Value("1"));
  EXPECT_FALSE(store.WaitAll({"a", "missing"}, absl::InfinitePast()).has_value());
  EXPECT_TRUE(store.Contains("a"));
  EXPECT_FALSE(store.Contains("missing"));
  store.Put("missing", Value("2"));
  auto both = store.WaitAll({"a", "missing"}, absl::InfinitePast());
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(std::string((*both)[1].data->Data(), 1), "2");
}

TEST(MemoryStoreTest, FirstPutWinsAndCallbacksRunOnce) {
  MemoryStore store;
  int calls = 0;
  std::string seen;
  store.OnReady("x", [&](const StoredObject& o) {
    ++calls;
    seen.assign(o.data->Data(), o.data->Size());
  });
  store.Put("x", Value("first"));
  store.Put("x", Value("second"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, "first");
  store.OnReady("x", [&](const StoredObject&) { ++calls; });  // already ready: runs now
  EXPECT_EQ(calls, 2);
}

TEST(MemoryStoreTest, WaitSomeReturnsWhenEnoughAreReady) {
  MemoryStore store;
  std::thread producer([&] { store.Put("b", Value("2")); });
  auto flags = store.WaitSome({"a", "b", "c"}, 1, absl::Now() + absl::Seconds(10));
  producer.join();
  EXPECT_EQ(flags, (std::vector<bool>{false, true, false}));
  flags = store.WaitSome({"a", "b"}, 2, absl::Now() + absl::Milliseconds(20));
  EXPECT_EQ(flags, (std::vector<bool>{false, true}));
}

TEST(MemoryStoreTest, ErrorsAreReadyObjects) {
  MemoryStore store;
  StoredObject error;
  error.error.set_type(proto::WORKER_DIED);
  store.Put("e", error);
  auto objects = store.WaitAll({"e"}, absl::InfinitePast());
  ASSERT_TRUE(objects);
  EXPECT_TRUE((*objects)[0].is_error());
}

}  // namespace
}  // namespace moray::core
