#include "common/id.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace moray {
namespace {

std::mt19937_64& Generator() {
  thread_local std::mt19937_64 generator([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  return generator;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
  return out;
}

std::string FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return {};
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return {};
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

void FillRandom(uint8_t* out, size_t size) {
  auto& gen = Generator();
  for (size_t i = 0; i < size; i += 8) {
    uint64_t word = gen();
    std::memcpy(out + i, &word, std::min<size_t>(8, size - i));
  }
}

std::string RandomBytes(size_t size) {
  std::string out(size, '\0');
  FillRandom(reinterpret_cast<uint8_t*>(out.data()), size);
  return out;
}

namespace {

// 12 unique bytes: a random per-thread prefix and a counter, shared by every kind of id, so that
// no two ids a process makes share them (an actor's id and a task's id included) without a random
// draw per id. The counter is big-endian: one thread's ids sort in the order they were made.
void FillUnique(uint8_t* out) {
  thread_local const uint32_t prefix = [] {
    uint32_t value = 0;
    FillRandom(reinterpret_cast<uint8_t*>(&value), sizeof(value));
    return value;
  }();
  thread_local uint64_t counter = 0;
  const uint64_t n = __builtin_bswap64(++counter);
  std::memcpy(out, &prefix, sizeof(prefix));
  std::memcpy(out + sizeof(prefix), &n, sizeof(n));
}

// The job's id, then 12 unique bytes.
template <typename T>
T NewJobScopedId(const JobId& job_id) {
  static_assert(T::kSize == JobId::kSize + 12);
  T id;
  std::memcpy(id.mutable_data(), job_id.data(), JobId::kSize);
  FillUnique(id.mutable_data() + JobId::kSize);
  return id;
}

void StoreLittleEndian(uint8_t* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>((value >> (8 * i)) & 0xff);
}

// The task's id + a little-endian index.
ObjectId ObjectIdOf(const TaskId& task_id, uint32_t index) {
  static_assert(ObjectId::kSize == TaskId::kSize + sizeof(index));
  ObjectId id;
  std::memcpy(id.mutable_data(), task_id.data(), TaskId::kSize);
  StoreLittleEndian(id.mutable_data() + TaskId::kSize, index);
  return id;
}

template <typename T>
JobId JobPrefix(const T& id) {
  return JobId::FromBinary(id.View().substr(0, JobId::kSize));
}

}  // namespace

TaskId NewTaskId(const JobId& job_id) { return NewJobScopedId<TaskId>(job_id); }
ActorId NewActorId(const JobId& job_id) { return NewJobScopedId<ActorId>(job_id); }
PlacementGroupId NewPlacementGroupId(const JobId& job_id) {
  return NewJobScopedId<PlacementGroupId>(job_id);
}

ObjectId ObjectIdForReturn(const TaskId& task_id, uint32_t index) {
  return ObjectIdOf(task_id, index);
}

ObjectId ObjectIdForPut(const TaskId& task_id, uint32_t put_index) {
  return ObjectIdOf(task_id, kPutIndexBase + put_index);
}

uint32_t ObjectIndexOf(const ObjectId& object_id) {
  const uint8_t* bytes = object_id.data() + TaskId::kSize;
  uint32_t index = 0;
  for (int i = 0; i < 4; ++i) index |= static_cast<uint32_t>(bytes[i]) << (8 * i);
  return index;
}

TaskId TaskIdOf(const ObjectId& object_id) {
  return TaskId::FromBinary(object_id.View().substr(0, TaskId::kSize));
}

ObjectId ActorHandleId(const ActorId& actor_id) {
  static_assert(ObjectId::kSize == ActorId::kSize + 4);
  ObjectId id;
  std::memcpy(id.mutable_data(), actor_id.data(), ActorId::kSize);  // index 0: no return or put
  return id;
}

std::optional<ActorId> ActorOfHandle(const ObjectId& id) {
  if (id.IsNil() || id.View().substr(ActorId::kSize) != std::string_view("\0\0\0\0", 4)) {
    return std::nullopt;
  }
  return ActorId::FromBinary(id.View().substr(0, ActorId::kSize));
}

JobId JobIdOf(const TaskId& task_id) { return JobPrefix(task_id); }
JobId JobIdOf(const ActorId& actor_id) { return JobPrefix(actor_id); }
JobId JobIdOf(const PlacementGroupId& group_id) { return JobPrefix(group_id); }

JobId JobIdFromInt(uint32_t value) {
  JobId id;
  StoreLittleEndian(id.mutable_data(), value);
  return id;
}

uint32_t JobIdToInt(const JobId& job_id) {
  uint32_t value = 0;
  for (size_t i = 0; i < JobId::kSize; ++i)
    value |= static_cast<uint32_t>(job_id.data()[i]) << (8 * i);
  return value;
}

}  // namespace moray
