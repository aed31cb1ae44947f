// VisibleDevices: this worker process's CUDA_VISIBLE_DEVICES, set to the GPUs of the lease a
// task or actor runs under (PushTasksRequest.gpu_ids) so CUDA inside user code sees exactly
// those devices, and put back to what the process started with after a normal task.
//
//   VisibleDevices devices;   // remembers the value the process was started with
//   devices.Set({0, 2});      // CUDA_VISIBLE_DEVICES=0,2
//   ... run the task ...
//   devices.Restore();        // the starting value again (or unset)
//
// A task without GPUs runs with the starting value (the raylet's environment, like Ray).
// Thread model: call from the thread that runs tasks, before user code runs or after it
// returns; the environment is process-wide, so nothing should read it concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace moray::core {

class VisibleDevices {
 public:
  VisibleDevices();

  void Set(const std::vector<int>& gpu_ids);
  void Restore();

  // "0,2": the ids as CUDA_VISIBLE_DEVICES lists them.
  static std::string Join(const std::vector<int>& gpu_ids);

 private:
  std::optional<std::string> original_;  // nullopt: unset at start
};

}  // namespace moray::core
