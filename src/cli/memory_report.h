// `moray memory`: the objects of the cluster joined from two sources, as text
// (docs/observability.md, "Debugging"):
// - the object snapshots the GCS holds (GET_OBJECTS: one record per object per process that
//   tracks it — the owner and each borrower — with sizes, reference kinds and counts, pid, ip);
// - each alive node's store contents (RAYLET_LIST_STORE_OBJECTS: which objects sit in that
//   node's shared memory as primary or secondary copies, pinned, or spilled to its disk).
// An object no store holds but whose owner has its value lives in the owner's memory (a small
// value, inlined).
//
//   MemoryInputs in{.objects = gcs_reply, .nodes = alive_nodes, .stores = listings};
//   auto options = ParseMemoryOptions("node", "MB", /*stats_only=*/false, /*num_entries=*/1000);
//   std::cout << FormatMemoryReport(BuildMemoryReport(in), *options, absl::Now());
//
// Pure functions; unit-tested in cli_format_test.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gcs.pb.h"
#include "raylet.pb.h"

namespace moray::cli {

// One node's store listing, or why there is none (the raylet did not answer).
struct NodeStoreListing {
  proto::NodeInfo node;
  absl::StatusOr<proto::ListStoreObjectsReply> listing;
};

struct MemoryInputs {
  proto::GetObjectsReply objects;        // the GCS's snapshots
  std::vector<NodeStoreListing> stores;  // one per alive node
};

// One process's view of an object (a GCS record).
struct ObjectReference {
  std::string ip;
  int pid = 0;
  std::string worker_id;  // hex
  std::string type;       // DRIVER | WORKER
  std::string reference_type;
  bool is_owner = false;
  int64_t local_refs = 0;
  int64_t submitted_task_refs = 0;
  int64_t contained_in_refs = 0;
  int64_t num_borrowers = 0;
};

// One copy of an object in a node's store.
struct ObjectCopy {
  std::string node_id;  // hex
  std::string node_ip;
  bool primary = true;
  int64_t pins = 0;
  bool spilled = false;
  bool sealed = true;
};

struct MemoryObject {
  std::string object_id;  // hex
  int64_t size = -1;      // bytes; -1: not known yet (a pending return)
  // The owner: from its record, else from a store copy's owner address (pid 0: unknown).
  std::string owner_ip;
  int owner_pid = 0;
  std::string owner_worker_id;
  std::string owner_node_id;
  std::string owner_type;
  std::vector<ObjectReference> references;  // the owner's first
  std::vector<ObjectCopy> copies;           // primary first
  bool in_owner_memory = false;             // no store copy and the owner has the value
};

struct NodeMemorySummary {
  std::string node_id;  // hex
  std::string node_ip;
  std::string error;  // the store could not be listed (the rest is empty)
  int64_t num_objects = 0;
  int64_t num_primary = 0;
  int64_t num_secondary = 0;
  uint64_t object_bytes = 0;  // sizes of its objects
  uint64_t used = 0;          // bytes allocated in shared memory
  uint64_t capacity = 0;
  int64_t num_spilled = 0;
  uint64_t spilled_bytes = 0;
  int64_t num_listed = 0;  // objects its listing carried (num_objects - left out)
};

struct MemoryReport {
  std::vector<MemoryObject> objects;  // largest first
  std::vector<NodeMemorySummary> nodes;
  int64_t num_dropped = 0;  // objects processes left out of their bounded snapshots
  int64_t num_store_objects_not_listed = 0;  // left out by the stores' listing limit
};

MemoryReport BuildMemoryReport(const MemoryInputs& inputs);

enum class MemoryGroupBy { kNode, kOwner };
struct MemoryOptions {
  MemoryGroupBy group_by = MemoryGroupBy::kNode;
  std::string units = "B";  // B, KB, MB, GB (powers of 1024)
  bool stats_only = false;
  int64_t num_entries = 1000;  // objects shown per group
};

// InvalidArgument with a sentence naming the flag for a bad --group-by or --units.
absl::StatusOr<MemoryGroupBy> ParseMemoryGroupBy(std::string_view text);
absl::StatusOr<std::string> ParseMemoryUnits(std::string_view text);

// `bytes` in `units` ("12.50 MB"; bytes: "1234 B").
std::string FormatMemorySize(int64_t bytes, const std::string& units);

// The report: a header, then (unless stats_only) per group the objects largest first — id, size,
// owner, references, where its copies are — with a note of those left out by num_entries, then
// per node the store summary and the cluster totals.
std::string FormatMemoryReport(const MemoryReport& report, const MemoryOptions& options,
                               absl::Time now);

}  // namespace moray::cli
