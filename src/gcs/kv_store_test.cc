#include "gcs/kv_store.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::gcs {
namespace {

using ::testing::ElementsAre;

class KvStoreTest : public ::testing::Test {
 protected:
  InMemoryTableStorage storage_;
  KvStore kv_{&storage_};
};

TEST_F(KvStoreTest, PutGetAndOverwriteFlag) {
  EXPECT_EQ(*kv_.Put("ns", "k", "v1", /*overwrite=*/false), true);
  EXPECT_EQ(*kv_.Put("ns", "k", "v2", /*overwrite=*/false), false);
  EXPECT_EQ(**kv_.Get("ns", "k"), "v1");  // kept: no overwrite
  EXPECT_EQ(*kv_.Put("ns", "k", "v3", /*overwrite=*/true), false);
  EXPECT_EQ(**kv_.Get("ns", "k"), "v3");
  EXPECT_FALSE(kv_.Get("ns", "missing")->has_value());
}

// An operation on the exclusive namespace from another thread waits for an exclusive section
// to end, so the section's reads and writes see no change in between (the package collector
// relies on it); other namespaces do not wait.
TEST_F(KvStoreTest, ExclusivelyKeepsOtherOperationsOut) {
  const std::string ns(KvStore::kExclusiveNamespace);
  std::atomic<bool> put_done{false};
  std::thread writer;
  kv_.Exclusively([&](KvStore::Unlocked& kv) {
    // Another namespace is served during the section.
    EXPECT_TRUE(kv_.Put("other", "k", "v", /*overwrite=*/true).ok());
    writer = std::thread([&] {
      ASSERT_TRUE(kv_.Put(ns, "ref", "", /*overwrite=*/true).ok());
      put_done = true;
    });
    // The writer cannot get in while this section runs, however long it waits.
    for (int i = 0; i < 20 && !put_done; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_FALSE(put_done);
    EXPECT_FALSE(kv.Get(ns, "ref")->has_value());
    return 0;
  });
  writer.join();
  EXPECT_TRUE(put_done);
  EXPECT_TRUE(kv_.Get(ns, "ref")->has_value());
}

TEST_F(KvStoreTest, NamespacesAreSeparate) {
  ASSERT_TRUE(kv_.Put("a", "k", "in a", false).ok());
  ASSERT_TRUE(kv_.Put("ab", "k", "in ab", false).ok());
  EXPECT_EQ(**kv_.Get("a", "k"), "in a");
  EXPECT_EQ(**kv_.Get("ab", "k"), "in ab");
  EXPECT_FALSE(kv_.Get("", "k")->has_value());
  // A prefix scan of namespace "a" must not reach namespace "ab".
  EXPECT_THAT(*kv_.Keys("a", ""), ElementsAre("k"));
  EXPECT_EQ(*kv_.Del("a", "", /*by_prefix=*/true), 1);
  EXPECT_EQ(**kv_.Get("ab", "k"), "in ab");
}

TEST_F(KvStoreTest, KeysAndDeleteByPrefix) {
  for (const char* key : {"pkg_1", "pkg_2", "other", "pkg"}) {
    ASSERT_TRUE(kv_.Put("ns", key, "x", false).ok());
  }
  EXPECT_THAT(*kv_.Keys("ns", "pkg"), ElementsAre("pkg", "pkg_1", "pkg_2"));
  EXPECT_EQ(*kv_.Del("ns", "pkg_", /*by_prefix=*/true), 2);
  EXPECT_THAT(*kv_.Keys("ns", ""), ElementsAre("other", "pkg"));
  EXPECT_EQ(*kv_.Del("ns", "pkg", /*by_prefix=*/false), 1);
  EXPECT_EQ(*kv_.Del("ns", "pkg", /*by_prefix=*/false), 0);
}

TEST_F(KvStoreTest, BinaryKeysAndValues) {
  std::string key("a\0b", 3), value("\0\xff\x01", 3);
  ASSERT_TRUE(kv_.Put("ns", key, value, false).ok());
  EXPECT_EQ(**kv_.Get("ns", key), value);
  EXPECT_THAT(*kv_.Keys("ns", std::string("a\0", 2)), ElementsAre(key));
}

TEST_F(KvStoreTest, NamespaceWithNulIsRejected) {
  auto put = kv_.Put(std::string("a\0b", 3), "k", "v", false);
  EXPECT_EQ(put.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace moray::gcs
