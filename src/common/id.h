// Binary identifiers and their hex form. Ids travel as raw bytes in protobuf and as hex in logs
// and the CLI.
//
// Sizes: JobID 4 bytes; NodeID, WorkerID, TaskID 16 bytes; ObjectID 20 bytes (the TaskID that made
// it + a 4-byte little-endian index: returns count from 1, puts from 0x80000000).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace moray {

inline constexpr size_t kJobIdSize = 4;
inline constexpr size_t kUniqueIdSize = 16;  // NodeID, WorkerID, TaskID
inline constexpr size_t kObjectIdSize = 20;
inline constexpr uint32_t kPutIndexBase = 0x80000000u;

// Lower-case hex of arbitrary bytes.
std::string ToHex(std::string_view bytes);
// Inverse of ToHex; returns an empty string for invalid input.
std::string FromHex(std::string_view hex);

// `size` random bytes from a per-thread generator seeded from the OS.
std::string RandomBytes(size_t size);

// A TaskID: the job id followed by 12 unique bytes.
std::string NewTaskId(std::string_view job_id);

// The id of return `index` (1-based) of a task, or of the put number `index` (0-based) made by a task.
std::string ObjectIdForReturn(std::string_view task_id, uint32_t index);
std::string ObjectIdForPut(std::string_view task_id, uint32_t put_index);
// The task that created an object, and the job of a task.
std::string_view TaskIdOfObject(std::string_view object_id);
std::string_view JobIdOfTask(std::string_view task_id);

// A job id from its sequence number (assigned by the GCS, starting at 1).
std::string JobIdFromInt(uint32_t value);
uint32_t JobIdToInt(std::string_view job_id);

}  // namespace moray
