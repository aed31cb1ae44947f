// GPUs as tasks and actors see them (issue 12): on a node started with --num-gpus=2, each task or
// actor holding GPUs gets its own device ids, in ray::GetGpuIds() and in its worker's
// CUDA_VISIBLE_DEVICES; fractions share a device; work without GPUs sees none.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ray/api.h"
#include "tests/cluster/local_cluster.h"
#include "tests/test_env.h"

namespace {

using moray::testing::LocalCluster;

// What the running task or actor sees: "<GetGpuIds, comma-joined>|<CUDA_VISIBLE_DEVICES>", the
// variable shown as "unset" when it is.
std::string GpuView() {
  std::string ids;
  for (int id : ray::GetGpuIds()) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const char* visible = getenv("CUDA_VISIBLE_DEVICES");
  return ids + "|" + (visible ? visible : "unset");
}

// Says it started (a file in `dir`), waits until `peers` tasks have (so they provably hold their
// devices at the same time), then reports what it sees. "timeout" if the others never came.
std::string GpuViewTogether(std::string dir, int peers) {
  moray::testing::Touch(dir + "/" + std::to_string(getpid()));
  auto started = [&] {
    std::error_code ec;
    auto it = std::filesystem::directory_iterator(dir, ec);
    return ec ? 0 : static_cast<int>(std::distance(it, std::filesystem::directory_iterator()));
  };
  if (!moray::testing::WaitFor([&] { return started() >= peers; }, std::chrono::seconds(60))) {
    return "timeout";
  }
  return GpuView();
}

class GpuHolder {
 public:
  static GpuHolder* Create() { return new GpuHolder(); }
  std::string View() { return GpuView(); }
};

RAY_REMOTE(GpuView, GpuViewTogether, GpuHolder::Create, &GpuHolder::View);

// "0,1|0,1" -> the ids part.
std::string IdsOf(const std::string& view) { return view.substr(0, view.find('|')); }
std::string VisibleOf(const std::string& view) { return view.substr(view.find('|') + 1); }

// One node with 4 CPUs and 2 GPUs (none need exist: --num-gpus is the user's word), this
// process its driver.
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("CUDA_VISIBLE_DEVICES");  // the node's ids are then 0 and 1
    ASSERT_TRUE(cluster_.Start({{.num_cpus = 4, .num_gpus = 2}})) << cluster_.error();
    ray::RayConfig config;
    config.address = cluster_.address();
    ray::Init(config);
  }
  void TearDown() override {
    ray::Shutdown();
    cluster_.Stop();
  }
  // A fresh directory for one round of GpuViewTogether.
  std::string RoundDir(const std::string& name) {
    std::string dir = moray::testing::PrivateTmpDir::path() + "/gpus-" + name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
  }
  LocalCluster cluster_;
};

TEST_F(GpuTest, TheNodeOffersTheGpusItWasStartedWith) {
  EXPECT_EQ(ray::ClusterResources()["GPU"], 2);
  EXPECT_TRUE(ray::GetGpuIds().empty()) << "a driver holds no GPUs";
}

TEST_F(GpuTest, ConcurrentWholeGpuTasksSeeDistinctDevices) {
  const std::string dir = RoundDir("whole");
  auto a = ray::Task(GpuViewTogether).SetResource("GPU", 1).Remote(dir, 2);
  auto b = ray::Task(GpuViewTogether).SetResource("GPU", 1).Remote(dir, 2);
  const std::string va = *a.Get(60000), vb = *b.Get(60000);
  ASSERT_NE(va, "timeout");
  ASSERT_NE(vb, "timeout");
  EXPECT_EQ(VisibleOf(va), IdsOf(va)) << "CUDA_VISIBLE_DEVICES lists the task's own ids";
  EXPECT_EQ(VisibleOf(vb), IdsOf(vb));
  std::vector<std::string> ids = {IdsOf(va), IdsOf(vb)};
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"0", "1"}));

  // Without GPUs (maybe on a worker that just ran one of those): nothing, and the variable as
  // the worker started (unset here).
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*ray::Task(GpuView).Remote().Get(60000), "|unset");
  // Two GPUs in one task.
  const std::string both = *ray::Task(GpuView).SetResource("GPU", 2).Remote().Get(60000);
  EXPECT_EQ(both, "0,1|0,1");
}

TEST_F(GpuTest, FractionsShareADevice) {
  const std::string dir = RoundDir("halves");
  auto a = ray::Task(GpuViewTogether).SetResource("GPU", 0.5).Remote(dir, 2);
  auto b = ray::Task(GpuViewTogether).SetResource("GPU", 0.5).Remote(dir, 2);
  const std::string va = *a.Get(60000), vb = *b.Get(60000);
  ASSERT_NE(va, "timeout");
  EXPECT_EQ(va, vb) << "two halves fill one device first";
  EXPECT_EQ(IdsOf(va).size(), 1u);
  EXPECT_EQ(VisibleOf(va), IdsOf(va));
}

TEST_F(GpuTest, AnActorKeepsItsDeviceForLife) {
  ray::ActorHandle<GpuHolder> actor = ray::Actor(GpuHolder::Create).SetResource("GPU", 1).Remote();
  const std::string first = *actor.Task(&GpuHolder::View).Remote().Get(60000);
  ASSERT_EQ(IdsOf(first).size(), 1u) << first;
  EXPECT_EQ(VisibleOf(first), IdsOf(first));
  // Tasks come and go meanwhile; the actor's device stays its own.
  const std::string task = *ray::Task(GpuView).SetResource("GPU", 1).Remote().Get(60000);
  EXPECT_NE(IdsOf(task), IdsOf(first)) << "the one device left";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(*actor.Task(&GpuHolder::View).Remote().Get(60000), first);
  }
  // An actor without GPUs sees none.
  ray::ActorHandle<GpuHolder> plain = ray::Actor(GpuHolder::Create).Remote();
  EXPECT_EQ(*plain.Task(&GpuHolder::View).Remote().Get(60000), "|unset");
}

}  // namespace
