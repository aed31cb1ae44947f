#include "raylet/node_gpus.h"

#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::raylet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<int> Ids(int num_gpus, std::optional<std::string_view> visible, int detected) {
  absl::StatusOr<std::vector<int>> ids = ChooseGpuIds(num_gpus, visible, detected);
  EXPECT_TRUE(ids.ok()) << ids.status();
  return ids.ok() ? *ids : std::vector<int>{};
}

TEST(NodeGpusTest, DefaultIsWhatTheDriverShows) {
  EXPECT_THAT(Ids(-1, std::nullopt, 0), IsEmpty());
  EXPECT_THAT(Ids(-1, std::nullopt, 3), ElementsAre(0, 1, 2));
}

TEST(NodeGpusTest, DefaultFollowsCudaVisibleDevices) {
  EXPECT_THAT(Ids(-1, "2,5", 8), ElementsAre(2, 5)) << "the listed devices, not the driver's";
  EXPECT_THAT(Ids(-1, "3", 0), ElementsAre(3));
  EXPECT_THAT(Ids(-1, "", 4), IsEmpty()) << "set but empty: no GPU is visible";
}

TEST(NodeGpusTest, AnExplicitCountWins) {
  EXPECT_THAT(Ids(2, std::nullopt, 0), ElementsAre(0, 1)) << "whatever the driver shows";
  EXPECT_THAT(Ids(1, std::nullopt, 4), ElementsAre(0));
  EXPECT_THAT(Ids(0, std::nullopt, 4), IsEmpty());
  EXPECT_THAT(Ids(2, "6,4,1", 8), ElementsAre(6, 4)) << "the first n of CUDA_VISIBLE_DEVICES";
}

TEST(NodeGpusTest, ErrorsSayWhatIsWrong) {
  auto bad = ChooseGpuIds(-1, "0,GPU-1234", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("CUDA_VISIBLE_DEVICES must be a comma-separated list of GPU indices"));
  auto too_many = ChooseGpuIds(3, "0,1", 0);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().message(),
            "--num-gpus=3 asks for more GPUs than CUDA_VISIBLE_DEVICES lists ('0,1')");
}

TEST(NodeGpusTest, DetectionCountsTheDriversEntries) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("node_gpus_test_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(DetectGpus(dir.string()), 0) << "no driver directory: no GPUs";
  std::filesystem::create_directories(dir / "0000:3b:00.0");
  std::filesystem::create_directories(dir / "0000:af:00.0");
  EXPECT_EQ(DetectGpus(dir.string()), 2);
  std::filesystem::remove_all(dir);
}

TEST(NodeGpusTest, ThisMachine) {
  // The real inputs: whatever they are, the default and an explicit count agree with the rule.
  const char* visible = getenv("CUDA_VISIBLE_DEVICES");
  if (visible == nullptr) {
    EXPECT_EQ(NodeGpuIds(-1)->size(), static_cast<size_t>(DetectGpus()));
    EXPECT_THAT(*NodeGpuIds(2), ElementsAre(0, 1));
  }
  EXPECT_THAT(*NodeGpuIds(0), IsEmpty());
}

}  // namespace
}  // namespace moray::raylet
