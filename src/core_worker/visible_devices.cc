#include "core_worker/visible_devices.h"

#include <stdlib.h>

#include "absl/strings/str_join.h"

namespace moray::core {

namespace {
constexpr char kVariable[] = "CUDA_VISIBLE_DEVICES";
}  // namespace

VisibleDevices::VisibleDevices() {
  if (const char* value = getenv(kVariable)) original_ = value;
}

void VisibleDevices::Set(const std::vector<int>& gpu_ids) {
  setenv(kVariable, Join(gpu_ids).c_str(), /*overwrite=*/1);
}

void VisibleDevices::Restore() {
  if (original_) {
    setenv(kVariable, original_->c_str(), /*overwrite=*/1);
  } else {
    unsetenv(kVariable);
  }
}

std::string VisibleDevices::Join(const std::vector<int>& gpu_ids) {
  return absl::StrJoin(gpu_ids, ",");
}

}  // namespace moray::core
