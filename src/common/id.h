// Identifiers: one distinct, fixed-size, hashable type per kind of thing, so that passing a
// NodeId where a WorkerId belongs does not compile. Inside the runtime ids are these types; bytes
// exist only in protobuf messages (Binary/FromBinary) and hex only in logs, the CLI and the
// public API (Hex/FromHex).
//
//   TaskId task = NewTaskId(job);                 // job id + 12 unique bytes
//   ObjectId ret = ObjectIdForReturn(task, 1);
//   spec.set_task_id(task.Binary());              // to a message
//   auto id = ObjectId::FromBinary(msg.object_id());  // from one: wrong size -> nil
//   absl::flat_hash_map<ObjectId, Entry> objects; // or std::unordered_map, std::map
//
// Sizes: JobId 4 bytes; NodeId, WorkerId 16 random bytes; TaskId, ActorId, PlacementGroupId 16
// bytes (their job's id, then 12 unique bytes); ObjectId 20 bytes (the TaskId that made it + a
// 4-byte little-endian index: returns count from 1, puts from 0x80000000).
//
// The nil id (all zero bytes, the default) means "none". It is what an empty or malformed byte
// string parses to, and its Binary() and Hex() are empty — as an absent id is in a message.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace moray {

// Lower-case hex of arbitrary bytes.
std::string ToHex(std::string_view bytes);
// Inverse of ToHex; returns an empty string for invalid input.
std::string FromHex(std::string_view hex);

// `size` random bytes from a per-thread generator seeded from the OS.
std::string RandomBytes(size_t size);
void FillRandom(uint8_t* out, size_t size);

template <typename Tag, size_t N>
class Id {
 public:
  static constexpr size_t kSize = N;

  constexpr Id() = default;  // nil

  // From a message's bytes: exactly kSize bytes, or nil (empty and malformed input alike; check
  // IsValidBinary where a malformed id must be told apart).
  static Id FromBinary(std::string_view bytes) {
    Id id;
    if (bytes.size() == N) std::memcpy(id.bytes_.data(), bytes.data(), N);
    return id;
  }
  static bool IsValidBinary(std::string_view bytes) { return bytes.empty() || bytes.size() == N; }
  // From the CLI's or the API's hex (either case); nullopt unless it is 2·kSize hex digits or
  // empty.
  static std::optional<Id> FromHex(std::string_view hex) {
    if (hex.empty()) return Id();
    if (hex.size() != 2 * N) return std::nullopt;
    std::string bytes = moray::FromHex(hex);
    if (bytes.size() != N) return std::nullopt;
    return FromBinary(bytes);
  }
  static Id FromRandom() {
    Id id;
    FillRandom(id.bytes_.data(), N);
    return id;
  }

  bool IsNil() const { return *this == Id(); }
  explicit operator bool() const { return !IsNil(); }
  std::string Binary() const {
    return IsNil() ? std::string() : std::string(reinterpret_cast<const char*>(bytes_.data()), N);
  }
  std::string Hex() const { return IsNil() ? std::string() : ToHex(View()); }
  // The bytes in place (kSize of them, also for nil).
  std::string_view View() const { return {reinterpret_cast<const char*>(bytes_.data()), N}; }
  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* mutable_data() { return bytes_.data(); }

  // Byte order (C++17-compatible: the public API's tests build this header as C++17).
  friend bool operator==(const Id& a, const Id& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const Id& a, const Id& b) { return a.bytes_ != b.bytes_; }
  friend bool operator<(const Id& a, const Id& b) { return a.bytes_ < b.bytes_; }
  friend bool operator>(const Id& a, const Id& b) { return b < a; }
  friend bool operator<=(const Id& a, const Id& b) { return !(b < a); }
  friend bool operator>=(const Id& a, const Id& b) { return !(a < b); }
  template <typename H>
  friend H AbslHashValue(H h, const Id& id) {
    return H::combine_contiguous(std::move(h), id.bytes_.data(), N);
  }
  // Hex in logs, test failures (gtest) and absl::StrCat.
  friend std::ostream& operator<<(std::ostream& os, const Id& id) {
    return os << (id.IsNil() ? std::string("nil") : id.Hex());
  }
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const Id& id) {
    sink.Append(id.IsNil() ? std::string("nil") : id.Hex());
  }
  size_t StdHash() const {
    // The bytes are random (or a random prefix and a counter): any eight of them hash well.
    uint64_t a = 0, b = 0;
    std::memcpy(&a, bytes_.data(), N < 8 ? N : 8);
    std::memcpy(&b, bytes_.data() + (N > 8 ? N - 8 : 0), N < 8 ? N : 8);
    return static_cast<size_t>(a * 0x9e3779b97f4a7c15ull ^ b);
  }

 private:
  std::array<uint8_t, N> bytes_{};
};

using JobId = Id<struct JobIdTag, 4>;
using NodeId = Id<struct NodeIdTag, 16>;
using WorkerId = Id<struct WorkerIdTag, 16>;
using TaskId = Id<struct TaskIdTag, 16>;
using ActorId = Id<struct ActorIdTag, 16>;
using PlacementGroupId = Id<struct PlacementGroupIdTag, 16>;
using ObjectId = Id<struct ObjectIdTag, 20>;

inline constexpr uint32_t kPutIndexBase = 0x80000000u;

// A job id from its sequence number (assigned by the GCS, starting at 1), and back.
JobId JobIdFromInt(uint32_t value);
uint32_t JobIdToInt(const JobId& job_id);

// Fresh ids of things a job makes: the job's id, then 12 unique bytes.
TaskId NewTaskId(const JobId& job_id);
ActorId NewActorId(const JobId& job_id);
PlacementGroupId NewPlacementGroupId(const JobId& job_id);

// The id of return `index` (1-based) of a task, or of the put number `index` (0-based) made by a
// task.
ObjectId ObjectIdForReturn(const TaskId& task_id, uint32_t index);
ObjectId ObjectIdForPut(const TaskId& task_id, uint32_t put_index);
// The object id that stands for an actor's handles in reference counting (index 0, which no
// return or put uses): the actor lives while it is reachable. ActorOfHandle is its inverse.
ObjectId ActorHandleId(const ActorId& actor_id);
std::optional<ActorId> ActorOfHandle(const ObjectId& id);
// An object's index within its task: 1..n for returns, kPutIndexBase + n for puts, 0 for an
// actor's handle id.
uint32_t ObjectIndexOf(const ObjectId& object_id);
// The task that created an object; the job of a task, an actor or a placement group.
TaskId TaskIdOf(const ObjectId& object_id);
JobId JobIdOf(const TaskId& task_id);
JobId JobIdOf(const ActorId& actor_id);
JobId JobIdOf(const PlacementGroupId& group_id);

}  // namespace moray

template <typename Tag, size_t N>
struct std::hash<moray::Id<Tag, N>> {
  size_t operator()(const moray::Id<Tag, N>& id) const { return id.StdHash(); }
};
