#include "object_store/allocator.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace moray::object_store {
namespace {

TEST(AllocatorTest, AlignsAndHandsOutLowAddressesFirst) {
  Allocator allocator(1 << 20);
  auto a = allocator.Allocate(1);
  auto b = allocator.Allocate(100);
  auto c = allocator.Allocate(0);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, 0u);
  EXPECT_EQ(*b, 64u);
  EXPECT_EQ(*c, 64u + 128u);
  for (uint64_t offset : {*a, *b, *c}) EXPECT_EQ(offset % Allocator::kAlignment, 0u);
  EXPECT_EQ(allocator.used(), 64u + 128u + 64u);
}

TEST(AllocatorTest, CapacityIsRoundedDownAndNothingLargerFits) {
  Allocator allocator(1000);
  EXPECT_EQ(allocator.capacity(), 960u);
  EXPECT_FALSE(allocator.Allocate(961));
  auto all = allocator.Allocate(960);
  ASSERT_TRUE(all);
  EXPECT_FALSE(allocator.Allocate(1));
  allocator.Free(*all);
  EXPECT_EQ(allocator.used(), 0u);
}

TEST(AllocatorTest, BestFitPicksTheSmallestBlockThatFits) {
  Allocator allocator(64 * 100);
  // Layout: [A 10][x 1][B 3][x 1][C 5][x 1][rest] in 64-byte units; free A, B, C.
  auto a = allocator.Allocate(64 * 10);
  auto x1 = allocator.Allocate(64);
  auto b = allocator.Allocate(64 * 3);
  auto x2 = allocator.Allocate(64);
  auto c = allocator.Allocate(64 * 5);
  auto x3 = allocator.Allocate(64);
  ASSERT_TRUE(a && x1 && b && x2 && c && x3);
  allocator.Free(*a);
  allocator.Free(*b);
  allocator.Free(*c);
  EXPECT_EQ(*allocator.Allocate(64 * 3), *b);  // exact fit
  EXPECT_EQ(*allocator.Allocate(64 * 4), *c);  // C (5) beats A (10) and the rest
  EXPECT_EQ(*allocator.Allocate(64 * 2), *a);  // A is now the smallest that fits
}

TEST(AllocatorTest, EqualSizesGoToTheLowestAddress) {
  Allocator allocator(64 * 10);
  std::vector<uint64_t> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(*allocator.Allocate(64));
  allocator.Free(blocks[7]);
  allocator.Free(blocks[2]);
  allocator.Free(blocks[5]);
  EXPECT_EQ(*allocator.Allocate(64), blocks[2]);
  EXPECT_EQ(*allocator.Allocate(64), blocks[5]);
  EXPECT_EQ(*allocator.Allocate(64), blocks[7]);
}

TEST(AllocatorTest, FreeCoalescesWithBothNeighbours) {
  Allocator allocator(64 * 3);
  auto a = allocator.Allocate(64);
  auto b = allocator.Allocate(64);
  auto c = allocator.Allocate(64);
  allocator.Free(*a);
  allocator.Free(*c);
  EXPECT_EQ(allocator.num_free_blocks(), 2u);
  EXPECT_FALSE(allocator.Allocate(128));
  allocator.Free(*b);  // joins a and c
  EXPECT_EQ(allocator.num_free_blocks(), 1u);
  EXPECT_EQ(allocator.LargestFreeBlock(), 64u * 3);
  EXPECT_EQ(*allocator.Allocate(64 * 3), 0u);
}

TEST(AllocatorTest, FragmentationLeavesNoLargeBlockUntilNeighboursAreFreed) {
  Allocator allocator(64 * 1024);
  std::vector<uint64_t> blocks;
  for (int i = 0; i < 1024; ++i) blocks.push_back(*allocator.Allocate(64));
  for (int i = 0; i < 1024; i += 2) allocator.Free(blocks[i]);  // every other block
  EXPECT_EQ(allocator.used(), 64u * 512);
  EXPECT_EQ(allocator.LargestFreeBlock(), 64u);
  EXPECT_FALSE(allocator.Allocate(128));
  for (int i = 1; i < 1024; i += 2) allocator.Free(blocks[i]);
  EXPECT_EQ(allocator.num_free_blocks(), 1u);
  EXPECT_EQ(allocator.LargestFreeBlock(), 64u * 1024);
}

TEST(AllocatorTest, RandomWorkloadKeepsBlocksDisjointAndAccountingExact) {
  Allocator allocator(1 << 22);
  std::mt19937_64 rng(42);
  std::map<uint64_t, uint64_t> live;  // offset -> rounded size
  for (int step = 0; step < 20000; ++step) {
    if (live.empty() || rng() % 3 != 0) {
      uint64_t size = rng() % (64 << 10);
      if (auto offset = allocator.Allocate(size)) {
        ASSERT_EQ(*offset % 64, 0u);
        auto next = live.lower_bound(*offset);
        if (next != live.end()) ASSERT_LE(*offset + Allocator::Rounded(size), next->first);
        if (next != live.begin()) {
          auto prev = std::prev(next);
          ASSERT_LE(prev->first + prev->second, *offset);
        }
        live[*offset] = Allocator::Rounded(size);
      }
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      allocator.Free(it->first);
      live.erase(it);
    }
    uint64_t used = 0;
    for (const auto& [offset, size] : live) used += size;
    ASSERT_EQ(allocator.used(), used);
  }
  for (const auto& [offset, size] : live) allocator.Free(offset);
  EXPECT_EQ(allocator.num_free_blocks(), 1u);
}

}  // namespace
}  // namespace moray::object_store
