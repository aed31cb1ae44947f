#include "core_worker/memory_store.h"

#include <thread>

#include "absl/time/clock.h"
#include "common/testing/named_ids.h"
#include "gtest/gtest.h"

namespace moray::core {
namespace {

ObjectId O(std::string_view name) { return moray::testing::NamedId<ObjectId>(name); }

StoredObject Value(const std::string& s) {
  return {std::make_shared<ray::internal::StringBuffer>(s), {}};
}

TEST(MemoryStoreTest, WaitAllReturnsInInputOrderOnceEverythingIsReady) {
  MemoryStore store;
  store.Put(O("a"), Value("1"));
  std::thread producer([&] {
    store.Put(O("c"), Value("3"));
    store.Put(O("b"), Value("2"));
  });
  auto objects = store.WaitAll({O("c"), O("a"), O("b"), O("a")}, absl::InfiniteFuture());
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
  store.Put(O("a"), Value(std::string(1000, 'x')));
  EXPECT_EQ(store.bytes(), 1000 + kEntryOverhead);
  store.Put(O("a"), Value(std::string(5000, 'y')));  // ignored: the first result wins
  EXPECT_EQ(store.bytes(), 1000 + kEntryOverhead);
  StoredObject in_plasma;
  in_plasma.in_plasma = true;
  in_plasma.size = 1 << 20;  // its bytes live in the shared-memory store
  store.Put(O("b"), in_plasma);
  EXPECT_EQ(store.bytes(), 1000 + kEntryOverhead);
  store.Delete(O("a"));
  store.Delete(O("a"));  // a second delete changes nothing
  EXPECT_EQ(store.bytes(), 0);
  store.Delete(O("b"));
  EXPECT_EQ(store.bytes(), 0);
}

TEST(MemoryStoreTest, WaitAllTimesOut) {
  MemoryStore store;
  absl::Time start = absl::Now();
  EXPECT_FALSE(store.WaitAll({O("missing")}, absl::Now() + absl::Milliseconds(50)).has_value());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));
  // The timed-out waiter must be unregistered: a later Put cannot touch it.
  store.Put(O("missing"), Value("x"));
  EXPECT_TRUE(store.WaitAll({O("missing")}, absl::InfinitePast()).has_value());
}

TEST(MemoryStoreTest, APollWithAPastDeadlineAnswersAtOnce) {
  MemoryStore store;
  store.Put(O("a"), Value("1"));
  EXPECT_FALSE(store.WaitAll({O("a"), O("missing")}, absl::InfinitePast()).has_value());
  EXPECT_TRUE(store.Contains(O("a")));
  EXPECT_FALSE(store.Contains(O("missing")));
  store.Put(O("missing"), Value("2"));
  auto both = store.WaitAll({O("a"), O("missing")}, absl::InfinitePast());
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(std::string((*both)[1].data->Data(), 1), "2");
}

TEST(MemoryStoreTest, FirstPutWinsAndCallbacksRunOnce) {
  MemoryStore store;
  int calls = 0;
  std::string seen;
  store.OnReady(O("x"), [&](const StoredObject& o) {
    ++calls;
    seen.assign(o.data->Data(), o.data->Size());
  });
  store.Put(O("x"), Value("first"));
  store.Put(O("x"), Value("second"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, "first");
  store.OnReady(O("x"), [&](const StoredObject&) { ++calls; });  // already ready: runs now
  EXPECT_EQ(calls, 2);
}

TEST(MemoryStoreTest, WaitSomeReturnsWhenEnoughAreReady) {
  MemoryStore store;
  std::thread producer([&] { store.Put(O("b"), Value("2")); });
  auto flags = store.WaitSome({O("a"), O("b"), O("c")}, 1, absl::Now() + absl::Seconds(10));
  producer.join();
  EXPECT_EQ(flags, (std::vector<bool>{false, true, false}));
  flags = store.WaitSome({O("a"), O("b")}, 2, absl::Now() + absl::Milliseconds(20));
  EXPECT_EQ(flags, (std::vector<bool>{false, true}));
}

TEST(MemoryStoreTest, ErrorsAreReadyObjects) {
  MemoryStore store;
  StoredObject error;
  error.error.set_type(proto::WORKER_DIED);
  store.Put(O("e"), error);
  auto objects = store.WaitAll({O("e")}, absl::InfinitePast());
  ASSERT_TRUE(objects);
  EXPECT_TRUE((*objects)[0].is_error());
}

}  // namespace
}  // namespace moray::core
