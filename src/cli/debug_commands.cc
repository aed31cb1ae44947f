// `moray stack` and `moray memory` (docs/observability.md, "Debugging"): the two tools for a job
// that hangs or whose memory grows. Both read the GCS, then ask nodes' raylets (raylet_call.h).
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/memory_report.h"
#include "cli/options.h"
#include "cli/process_locator.h"
#include "cli/raylet_call.h"
#include "common/session.h"
#include "gcs/gcs_client.h"
#include "raylet.pb.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"

namespace moray::cli {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);
constexpr int64_t kStackTimeoutMs = 30000;                 // the tool's limit at the raylet
constexpr absl::Duration kStackSlack = absl::Seconds(10);  // the raylet's own answer on top
constexpr absl::Duration kListTimeout = absl::Seconds(20);

[[noreturn]] void Fail(std::ostream& err, const absl::Status& status) {
  err << "Error: " << status.message() << std::endl;
  throw CLI::RuntimeError(1);
}

template <typename T>
T OrFail(std::ostream& err, absl::StatusOr<T> value) {
  if (!value.ok()) Fail(err, value.status());
  return *std::move(value);
}

std::unique_ptr<gcs::GcsClient> Connect(std::ostream& err, const std::string& flag) {
  // Flag, then $RAY_ADDRESS, then the cluster this machine started last.
  std::string given = flag;
  const char* env = std::getenv("RAY_ADDRESS");
  if (given.empty() && (env == nullptr || *env == '\0')) given = "auto";
  std::string address = OrFail(err, ResolveGcsAddress(given));
  rpc::SetProcessAuth(OrFail(err, rpc::LoadAuthConfig()));
  rpc::SetProcessRole(proto::ROLE_CLI);
  return OrFail(err, gcs::GcsClient::Connect(address, kConnectTimeout));
}

void AddAddress(CLI::App* command, std::string* address) {
  command->add_option("--address", *address,
                      "GCS address HOST:PORT (default: $RAY_ADDRESS, else the cluster started "
                      "last on this machine)");
}

struct StackOptions {
  std::optional<ProcessTarget> target;
  std::optional<NodeId> node;
  std::string address;
};

void RunStack(std::ostream& out, std::ostream& err, const StackOptions& o) {
  auto client = Connect(err, o.address);
  ProcessLocation where = OrFail(err, Locate(*client, *o.target, o.node));
  proto::DumpStackRequest request;
  request.set_pid(where.pid);
  request.set_timeout_ms(kStackTimeoutMs);
  proto::DumpStackReply reply;
  absl::Status called =
      CallRaylet(where.node_ip, where.raylet_port, proto::RAYLET_DUMP_STACK, "DumpStack", request,
                 &reply, absl::Milliseconds(kStackTimeoutMs) + kStackSlack);
  if (!called.ok()) Fail(err, called);
  out << "Stacks of pid " << where.pid << " (worker " << ToHex(reply.worker_id()) << ") on node "
      << where.node_id.Hex() << " (" << where.node_ip << "), by `" << reply.tool() << "`:\n"
      << reply.text();
  if (!reply.text().empty() && reply.text().back() != '\n') out << "\n";
}

struct MemoryCommandOptions {
  std::string address;
  MemoryOptions format;
};

void RunMemory(std::ostream& out, std::ostream& err, const MemoryCommandOptions& o) {
  auto client = Connect(err, o.address);
  MemoryInputs inputs;
  inputs.objects = OrFail(err, client->GetObjects({}, /*limit=*/0));
  for (const auto& node : OrFail(err, client->GetAllNodes())) {
    if (node.state() != proto::NODE_ALIVE) continue;
    proto::ListStoreObjectsRequest request;
    proto::ListStoreObjectsReply reply;
    absl::Status called =
        CallRaylet(node.node_ip(), node.raylet_port(), proto::RAYLET_LIST_STORE_OBJECTS,
                   "ListStoreObjects", request, &reply, kListTimeout);
    NodeStoreListing listing{.node = node, .listing = reply};
    if (!called.ok()) {
      listing.listing = called;
      err << "Warning: " << called.message() << std::endl;
    }
    inputs.stores.push_back(std::move(listing));
  }
  out << FormatMemoryReport(BuildMemoryReport(inputs), o.format, absl::Now());
}

}  // namespace

void AddDebugCommands(CLI::App& app) { AddDebugCommands(app, std::cout, std::cerr); }

void AddDebugCommands(CLI::App& app, std::ostream& out, std::ostream& err) {
  auto stack = std::make_shared<StackOptions>();
  CLI::App* stack_cmd = app.add_subcommand(
      "stack",
      "Print the native stacks of every thread of a live worker (through its node's "
      "raylet, with eu-stack or gdb)");
  AddOption(stack_cmd, "target", "A worker's pid, or an actor id or task id (hex)", "TARGET",
            [stack](std::string_view text) -> absl::Status {
              auto target = ParseProcessTarget(text);
              if (!target.ok()) return target.status();
              stack->target = *target;
              return absl::OkStatus();
            })
      ->required();
  AddOption(stack_cmd, "--node-id", "The node of the pid (needed when several nodes have it)",
            "NODE_ID", [stack](std::string_view text) -> absl::Status {
              auto node = ParseNodeId(text);
              if (!node.ok()) return node.status();
              stack->node = *node;
              return absl::OkStatus();
            });
  AddAddress(stack_cmd, &stack->address);
  stack_cmd->callback([&out, &err, stack] { RunStack(out, err, *stack); });

  auto memory = std::make_shared<MemoryCommandOptions>();
  CLI::App* memory_cmd = app.add_subcommand(
      "memory", "List the cluster's objects: size, owner, references and where the copies are");
  AddAddress(memory_cmd, &memory->address);
  AddOption(memory_cmd, "--group-by", "node (the owner's node; default) or owner", "GROUP",
            [memory](std::string_view text) -> absl::Status {
              auto group = ParseMemoryGroupBy(text);
              if (!group.ok()) return group.status();
              memory->format.group_by = *group;
              return absl::OkStatus();
            });
  AddOption(memory_cmd, "--units", "B (default), KB, MB or GB (powers of 1024)", "UNITS",
            [memory](std::string_view text) -> absl::Status {
              auto units = ParseMemoryUnits(text);
              if (!units.ok()) return units.status();
              memory->format.units = *units;
              return absl::OkStatus();
            });
  memory_cmd->add_flag("--stats-only", memory->format.stats_only,
                       "Only the per-node store summary and the totals");
  AddWholeNumberOption(memory_cmd, "--num-entries",
                       "Show at most this many objects per group, largest first (default 1000)",
                       "N", {.min = 1}, &memory->format.num_entries);
  memory_cmd->callback([&out, &err, memory] { RunMemory(out, err, *memory); });
}

}  // namespace moray::cli
