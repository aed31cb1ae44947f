#include "object_store/store.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/id.h"
#include "gtest/gtest.h"

namespace moray::object_store {
namespace {

constexpr uint64_t kCapacity = 1 << 20;
constexpr uint64_t kObject = 256 << 10;  // four fit
constexpr ClientId kWriter = 1;
constexpr ClientId kReader = 2;

// Distinct object ids: the puts of one made-up task.
ObjectId Id(int i) { return ObjectIdForPut(TaskId::FromBinary(std::string(16, 't')), i); }

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spill_dir_ = absl::StrCat(::testing::TempDir(), "/store_test_", getpid(), "_",
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(spill_dir_);
    memory_.assign(kCapacity, 0);
    Reset(spill_dir_, 256 << 20);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(spill_dir_);
  }
  void Reset(const std::string& spill_dir, uint64_t spill_file_size) {
    store_.reset();
    StoreOptions options;
    options.capacity = kCapacity;
    options.spill_dir = spill_dir;
    options.spill_file_size = spill_file_size;
    store_ = std::make_unique<Store>(options, memory_.data());
  }

  // Creates, fills with `fill` and seals object `i` as kWriter.
  void Put(int i, char fill, bool primary = true, uint64_t size = kObject) {
    auto offset = store_->Create(kWriter, Id(i), size, {}, primary);
    ASSERT_TRUE(offset.ok()) << offset.status();
    std::memset(memory_.data() + *offset, fill, size);
    ASSERT_TRUE(store_->Seal(kWriter, Id(i)).ok());
  }
  bool HasContent(const ObjectLocation& at, char fill) {
    for (uint64_t i = 0; i < at.size; ++i) {
      if (memory_[at.offset + i] != fill) return false;
    }
    return true;
  }
  size_t SpillFileCount() {
    if (!std::filesystem::exists(spill_dir_)) return 0;
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(spill_dir_)) n += entry.is_regular_file();
    return n;
  }

  std::string spill_dir_;
  std::vector<char> memory_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CreateSealGetRelease) {
  auto offset = store_->Create(kWriter, Id(1), 1000, {}, true);
  ASSERT_TRUE(offset.ok());
  EXPECT_FALSE(store_->IsReady(Id(1)));
  EXPECT_TRUE(absl::IsNotFound(store_->Get(kReader, Id(1)).status()));  // not sealed yet
  EXPECT_TRUE(absl::IsAlreadyExists(store_->Create(kWriter, Id(1), 10, {}, true).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(store_->Seal(kReader, Id(1))));  // not its creator
  ASSERT_TRUE(store_->Seal(kWriter, Id(1)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store_->Seal(kWriter, Id(1))));
  EXPECT_TRUE(store_->IsReady(Id(1)));
  EXPECT_EQ(store_->Stats().num_pinned(), 0u);
  auto at = store_->Get(kReader, Id(1));
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->offset, *offset);
  EXPECT_EQ(at->size, 1000u);
  EXPECT_EQ(store_->Stats().num_pinned(), 1u);
  EXPECT_EQ(store_->Stats().pinned_bytes(), 1000u);
  store_->Release(kReader, Id(1));
  store_->Release(kReader, Id(1));  // holds none: no-op
  EXPECT_EQ(store_->Stats().num_pinned(), 0u);
  EXPECT_EQ(store_->Stats().used(), 1024u);
}

TEST_F(StoreTest, ListsObjectsLargestFirstWithCopiesPinsAndSpillsWithinTheLimit) {
  Put(1, 'a', /*primary=*/true, 1000);
  Put(2, 'b', /*primary=*/false, 3000);
  Put(3, 'c', /*primary=*/true, 2000);
  ASSERT_TRUE(store_->Create(kWriter, Id(4), 10, {}, /*primary=*/true).ok());  // unsealed
  ASSERT_TRUE(store_->Get(kReader, Id(3)).ok());                               // pinned
  StoreContents all = store_->List(0);
  ASSERT_EQ(all.objects.size(), 4u);
  EXPECT_EQ(all.total, 4u);
  EXPECT_EQ(all.num_primary, 3u);
  EXPECT_EQ(all.num_secondary, 1u);
  EXPECT_EQ(all.total_bytes, 6010u);
  EXPECT_EQ(all.objects[0].id, Id(2));
  EXPECT_FALSE(all.objects[0].primary);
  EXPECT_EQ(all.objects[1].id, Id(3));
  EXPECT_EQ(all.objects[1].pins, 1);
  EXPECT_EQ(all.objects[2].id, Id(1));
  EXPECT_EQ(all.objects[2].pins, 0);
  EXPECT_TRUE(all.objects[2].sealed);
  EXPECT_FALSE(all.objects[3].sealed);
  // A limit keeps the largest and still counts everything.
  StoreContents two = store_->List(2);
  ASSERT_EQ(two.objects.size(), 2u);
  EXPECT_EQ(two.total, 4u);
  EXPECT_EQ(two.objects[1].id, Id(3));
  // A deleted object leaves the listing even while a pin defers its freeing.
  store_->Delete(Id(3));
  EXPECT_EQ(store_->List(0).total, 3u);
  // Spilled primaries say so.
  store_->Release(kReader, Id(3));
  for (int i = 10; i < 14; ++i) Put(i, 'x');
  bool any_spilled = false;
  for (const auto& object : store_->List(0).objects) any_spilled |= object.spilled;
  EXPECT_TRUE(any_spilled);
}

TEST_F(StoreTest, DeleteIsDeferredWhilePinned) {
  Put(1, 'a');
  ASSERT_TRUE(store_->Get(kReader, Id(1)).ok());
  ASSERT_TRUE(store_->Get(kReader, Id(1)).ok());  // two pins
  store_->Delete(Id(1));
  EXPECT_FALSE(store_->IsReady(Id(1)));                       // no new readers
  EXPECT_TRUE(absl::IsNotFound(store_->Get(3, Id(1)).status()));
  EXPECT_EQ(store_->Stats().used(), kObject);                 // still mapped for the reader
  store_->Release(kReader, Id(1));
  EXPECT_EQ(store_->Stats().used(), kObject);
  store_->Release(kReader, Id(1));
  EXPECT_EQ(store_->Stats().used(), 0u);
  EXPECT_EQ(store_->Stats().num_objects(), 0u);
  store_->Delete(Id(99));  // unknown: no-op
}

TEST_F(StoreTest, DisconnectReleasesPinsAndAbortsUnsealedObjects) {
  Put(1, 'a');
  ASSERT_TRUE(store_->Get(kReader, Id(1)).ok());
  ASSERT_TRUE(store_->Create(kReader, Id(2), kObject, {}, true).ok());
  EXPECT_EQ(store_->Stats().num_pinned(), 2u);
  store_->DisconnectClient(kReader);
  EXPECT_EQ(store_->Stats().num_pinned(), 0u);
  EXPECT_TRUE(store_->IsReady(Id(1)));
  EXPECT_EQ(store_->Stats().num_objects(), 1u);  // the unsealed one is gone
  EXPECT_EQ(store_->Stats().used(), kObject);
}

TEST_F(StoreTest, EvictsUnpinnedSecondaryCopiesLeastRecentlyUsedFirst) {
  for (int i = 0; i < 4; ++i) Put(i, 'a' + i, /*primary=*/false);
  // Touch 0 so 1 is the least recently used; pin 2 so it cannot go.
  ASSERT_TRUE(store_->Get(kReader, Id(0)).ok());
  store_->Release(kReader, Id(0));
  ASSERT_TRUE(store_->Get(kReader, Id(2)).ok());
  Put(10, 'z');
  EXPECT_FALSE(store_->IsReady(Id(1)));
  EXPECT_TRUE(store_->IsReady(Id(0)));
  Put(11, 'y');
  EXPECT_FALSE(store_->IsReady(Id(3)));
  Put(12, 'x');
  EXPECT_FALSE(store_->IsReady(Id(0)));
  EXPECT_TRUE(store_->IsReady(Id(2)));  // pinned
  EXPECT_EQ(store_->Stats().evicted_total(), 3u);
  EXPECT_EQ(store_->Stats().spilled_total(), 0u);  // secondaries are never spilled
}

TEST_F(StoreTest, SpillsPrimaryCopiesAndRestoresThemByteExact) {
  for (int i = 0; i < 4; ++i) Put(i, 'a' + i);
  Put(4, 'e');  // spills 0, the least recently used
  auto stats = store_->Stats();
  EXPECT_EQ(stats.num_spilled(), 1u);
  EXPECT_EQ(stats.spilled_bytes(), kObject);
  EXPECT_EQ(stats.num_spill_files(), 1u);
  EXPECT_EQ(SpillFileCount(), 1u);
  EXPECT_TRUE(store_->IsReady(Id(0)));  // spilled objects are still available
  auto at = store_->Get(kReader, Id(0));  // restores, spilling 1
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_TRUE(HasContent(*at, 'a'));
  stats = store_->Stats();
  EXPECT_EQ(stats.restored_total(), 1u);
  EXPECT_EQ(stats.num_spilled(), 1u);
  store_->Release(kReader, Id(0));
  for (int i = 1; i <= 4; ++i) {
    auto again = store_->Get(kReader, Id(i));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(HasContent(*again, 'a' + i)) << i;
    store_->Release(kReader, Id(i));
  }
}

TEST_F(StoreTest, DeletingSpilledObjectsUnlinksTheirFiles) {
  Reset(spill_dir_, /*spill_file_size=*/2 * kObject);  // two objects per file
  for (int i = 0; i < 8; ++i) Put(i, 'a' + i);  // 0..3 spilled: two files
  EXPECT_EQ(store_->Stats().num_spilled(), 4u);
  EXPECT_EQ(SpillFileCount(), 2u);
  store_->Delete(Id(0));
  EXPECT_EQ(SpillFileCount(), 2u);  // 1 still lives in the first file
  store_->Delete(Id(1));
  EXPECT_EQ(SpillFileCount(), 1u);
  store_->Delete(Id(2));
  store_->Delete(Id(3));
  EXPECT_EQ(SpillFileCount(), 0u);
  EXPECT_EQ(store_->Stats().spilled_bytes(), 0u);
  EXPECT_EQ(store_->Stats().num_spill_files(), 0u);
}

TEST_F(StoreTest, SmallObjectsShareASpillFile) {
  for (int i = 0; i < 16; ++i) Put(i, 'a' + i, true, 64 << 10);
  Put(100, 'z', true, kCapacity / 2);  // spills eight small objects
  EXPECT_EQ(store_->Stats().num_spilled(), 8u);
  EXPECT_EQ(SpillFileCount(), 1u);
}

TEST_F(StoreTest, FullOnlyWhenPinnedDataLeavesNoRoom) {
  for (int i = 0; i < 3; ++i) {
    Put(i, 'a' + i);
    ASSERT_TRUE(store_->Get(kReader, Id(i)).ok());  // pinned
  }
  Put(3, 'd');  // unpinned: spillable
  Put(4, 'e');  // fits by spilling 3
  ASSERT_TRUE(store_->Get(kReader, Id(4)).ok());
  auto full = store_->Create(kWriter, Id(5), kObject, {}, true);
  ASSERT_TRUE(absl::IsResourceExhausted(full.status())) << full.status();
  EXPECT_NE(full.status().message().find("object store full"), std::string::npos);
  EXPECT_EQ(store_->Stats().num_objects(), 5u);
  // A pinned reader cannot restore a spilled object without room either.
  EXPECT_TRUE(absl::IsResourceExhausted(store_->Get(kReader, Id(3)).status()));
  store_->Release(kReader, Id(0));
  ASSERT_TRUE(store_->Create(kWriter, Id(5), kObject, {}, true).ok());  // spills 0
  EXPECT_TRUE(absl::IsResourceExhausted(
      store_->Create(kWriter, Id(6), 2 * kCapacity, {}, true).status()));
}

TEST_F(StoreTest, WithoutASpillDirectoryPrimaryCopiesAreNeverDropped) {
  Reset("", 256 << 20);
  for (int i = 0; i < 4; ++i) Put(i, 'a' + i);
  EXPECT_TRUE(absl::IsResourceExhausted(store_->Create(kWriter, Id(4), 1, {}, true).status()));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(store_->IsReady(Id(i)));
}

TEST_F(StoreTest, SealWakesTheCallbackUnlessDeleted) {
  std::vector<ObjectId> sealed;
  store_->SetOnSealed([&](const ObjectId& id) { sealed.push_back(id); });
  Put(1, 'a');
  ASSERT_TRUE(store_->Create(kWriter, Id(2), 10, {}, true).ok());
  store_->Delete(Id(2));  // deleted while being written
  ASSERT_TRUE(store_->Seal(kWriter, Id(2)).ok());
  EXPECT_EQ(sealed, std::vector<ObjectId>{Id(1)});
  EXPECT_EQ(store_->Stats().num_objects(), 1u);
}

TEST_F(StoreTest, DeletingAnUnsealedSecondaryCopyAbortsItAndFreesTheId) {
  ASSERT_TRUE(store_->Create(kWriter, Id(3), 10, {}, /*primary=*/false).ok());
  store_->Delete(Id(3));  // the transfer failed
  EXPECT_FALSE(store_->IsReady(Id(3)));
  EXPECT_FALSE(store_->Seal(kWriter, Id(3)).ok());
  // The id is free again: the task that rebuilds the object can store it here.
  ASSERT_TRUE(store_->Create(kWriter, Id(3), 10, {}, /*primary=*/true).ok());
  ASSERT_TRUE(store_->Seal(kWriter, Id(3)).ok());
  EXPECT_TRUE(store_->IsReady(Id(3)));
}

}  // namespace
}  // namespace moray::object_store
