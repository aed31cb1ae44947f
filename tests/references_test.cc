// Ownership and borrowing across real processes: refs nested in arguments and returns, refs that
// outlive the task that made them, and the loss of an owner.
#include <signal.h>
#include <unistd.h>

#include "embedded_cluster.h"
#include "gtest/gtest.h"
#include "moray/objects.h"
#include "ray/api.h"
#include "tests/test_env.h"

namespace {

int SumAll(std::vector<ray::ObjectRef<int>> refs) {
  int sum = 0;
  for (auto& ref : refs) sum += *ref.Get();
  return sum;
}
// SumAll once `gate` exists (-1 if it never does).
int SumAllAfter(std::vector<ray::ObjectRef<int>> refs, std::string gate) {
  return moray::testing::AwaitFile(gate) ? SumAll(std::move(refs)) : -1;
}

// Returns a ref to an object this worker puts (and so owns).
ray::ObjectRef<int> MakeOwned(int value) { return ray::Put(value); }

// Returns a ref it received nested in its argument (owned by someone else).
ray::ObjectRef<int> PassThrough(std::vector<ray::ObjectRef<int>> refs) { return refs.at(0); }

// Puts a value, returns the ref and this worker's pid.
std::pair<int, ray::ObjectRef<int>> MakeOwnedWithPid(int value) {
  return {static_cast<int>(getpid()), ray::Put(value)};
}

int Read(ray::ObjectRef<int> ref) { return *ref.Get(); }

RAY_REMOTE(SumAll, SumAllAfter, MakeOwned, PassThrough, MakeOwnedWithPid, Read);

using ReferencesTest = moray::testing::EmbeddedClusterTest<2>;

TEST_F(ReferencesTest, RefsNestedInArgumentsStayAliveAfterTheCallerDropsThem) {
  const std::string gate = moray::testing::PrivateTmpDir::path() + "/nested-refs-gate";
  ray::ObjectRef<int> sum;
  {
    std::vector<ray::ObjectRef<int>> refs{ray::Put(1), ray::Put(2), ray::Put(3)};
    sum = ray::Task(SumAllAfter).Remote(refs, gate);
  }  // the driver's handles are gone; the task reads the objects only after that
  moray::testing::Touch(gate);
  EXPECT_EQ(*sum.Get(), 6);
}

TEST_F(ReferencesTest, ARefReturnedByATaskOutlivesTheTask) {
  auto outer = ray::Task(MakeOwned).Remote(42);
  ray::ObjectRef<int> inner = *outer.Get();
  // The worker's task is over and its local handle gone; the driver borrows the object.
  EXPECT_EQ(*inner.Get(), 42);
  // ...also after the outer object itself is released.
  outer = ray::ObjectRef<ray::ObjectRef<int>>();
  EXPECT_EQ(*inner.Get(), 42);
  // And a third process can read it through the driver's borrowed ref.
  EXPECT_EQ(*ray::Task(Read).Remote(inner).Get(), 42);
}

TEST_F(ReferencesTest, ARefPassedThroughABorrowerStaysAlive) {
  ray::ObjectRef<ray::ObjectRef<int>> returned;
  {
    std::vector<ray::ObjectRef<int>> refs{ray::Put(7)};
    returned = ray::Task(PassThrough).Remote(refs);
  }
  ray::ObjectRef<int> back = *returned.Get();
  EXPECT_EQ(*back.Get(), 7);
}

TEST_F(ReferencesTest, LosingTheOwnerRaisesUnreconstructable) {
  auto made = ray::Task(MakeOwnedWithPid).Remote(5);
  auto [pid, ref] = *made.Get();
  ASSERT_NE(pid, getpid());
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(moray::testing::WaitFor([&] { return !moray::testing::ProcessAlive(pid); }));
  try {
    ref.Get(10000);
    FAIL() << "expected UnreconstructableException";
  } catch (const ray::internal::UnreconstructableException& e) {
    EXPECT_NE(std::string(e.what()).find("owner"), std::string::npos) << e.what();
  }
}

TEST_F(ReferencesTest, ObjectsAreFreedWhenTheLastReferenceIsGone) {
  auto before = moray::GetLocalObjectStats();
  {
    auto a = ray::Put(1);
    std::vector<ray::ObjectRef<int>> refs{ray::Put(2), ray::Put(3)};
    auto sum = ray::Task(SumAll).Remote(refs);
    auto outer = ray::Task(MakeOwned).Remote(9);
    ray::ObjectRef<int> inner = *outer.Get();
    EXPECT_EQ(*sum.Get(), 5);
    EXPECT_EQ(*inner.Get(), 9);
    auto during = moray::GetLocalObjectStats();
    EXPECT_GE(during.owned, before.owned + 5);  // a, two puts, sum, outer
    EXPECT_GE(during.borrowed, before.borrowed + 1);  // inner, owned by a worker
  }
  // Everything this driver owned or borrowed is released; the memory store holds nothing more.
  ASSERT_TRUE(moray::testing::WaitFor([&] {
    auto after = moray::GetLocalObjectStats();
    return after.owned == before.owned && after.borrowed == before.borrowed &&
           after.in_memory == before.in_memory;
  }));
}

}  // namespace
