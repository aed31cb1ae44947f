#include "raylet/node_gpus.h"

#include <stdlib.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace moray::raylet {

namespace {

absl::StatusOr<std::vector<int>> ParseVisibleDevices(std::string_view text) {
  std::vector<int> ids;
  if (absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size())).empty()) return ids;
  for (absl::string_view entry : absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    int id = 0;
    if (!absl::SimpleAtoi(entry, &id) || id < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CUDA_VISIBLE_DEVICES must be a comma-separated list of GPU indices such as '0,1', not '",
          std::string(text), "'"));
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

absl::StatusOr<std::vector<int>> ChooseGpuIds(int num_gpus,
                                              std::optional<std::string_view> cuda_visible_devices,
                                              int detected) {
  if (cuda_visible_devices) {
    absl::StatusOr<std::vector<int>> visible = ParseVisibleDevices(*cuda_visible_devices);
    if (!visible.ok() || num_gpus < 0) return visible;
    if (static_cast<size_t>(num_gpus) > visible->size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--num-gpus=", num_gpus, " asks for more GPUs than CUDA_VISIBLE_DEVICES lists ('",
          std::string(*cuda_visible_devices), "')"));
    }
    visible->resize(num_gpus);
    return visible;
  }
  std::vector<int> ids;
  const int count = num_gpus >= 0 ? num_gpus : detected;
  for (int i = 0; i < count; ++i) ids.push_back(i);
  return ids;
}

int DetectGpus(const std::string& dir) {
  std::error_code ec;
  int count = 0;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    ++count;
  }
  return count;
}

absl::StatusOr<std::vector<int>> NodeGpuIds(int num_gpus) {
  const char* visible = getenv("CUDA_VISIBLE_DEVICES");
  return ChooseGpuIds(num_gpus, visible ? std::optional<std::string_view>(visible) : std::nullopt,
                      num_gpus >= 0 ? 0 : DetectGpus());
}

}  // namespace moray::raylet
