// Which GPUs a node offers: their ids, which the raylet hands out with leases (gpu_pool.h) and
// whose number is the node's GPU resource.
//
//   absl::StatusOr<std::vector<int>> ids = NodeGpuIds(options.num_gpus);  // this process's view
//
// Without --num-gpus: the devices CUDA_VISIBLE_DEVICES (in the raylet's own environment) lists,
// else as many as the NVIDIA driver shows (/proc/driver/nvidia/gpus/*, numbered from 0), else
// none. With --num-gpus=n: the first n of CUDA_VISIBLE_DEVICES when it is set (an error if it
// lists fewer), else 0 .. n-1 (whatever the driver shows: the user's word wins).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace moray::raylet {

inline constexpr char kNvidiaGpusDir[] = "/proc/driver/nvidia/gpus";

// The rule above, over given inputs: `num_gpus` < 0 means not given; `cuda_visible_devices`
// nullopt means unset; `detected` is what the driver shows. InvalidArgument for a
// CUDA_VISIBLE_DEVICES that is not a comma-separated list of GPU indices, or that lists fewer
// than `num_gpus`.
absl::StatusOr<std::vector<int>> ChooseGpuIds(int num_gpus,
                                              std::optional<std::string_view> cuda_visible_devices,
                                              int detected);

// The entries of `dir` (the driver's one per GPU); 0 if it does not exist.
int DetectGpus(const std::string& dir = kNvidiaGpusDir);

// ChooseGpuIds with this process's CUDA_VISIBLE_DEVICES and DetectGpus().
absl::StatusOr<std::vector<int>> NodeGpuIds(int num_gpus);

}  // namespace moray::raylet
