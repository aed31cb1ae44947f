#include "cli/format_status.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/format_table.h"
#include "cli/format_util.h"
#include "common/id.h"

namespace moray::cli {
namespace {

constexpr char kStatusDashes[] =
    "---------------------------------------------------------------";
constexpr char kObjectStoreMemory[] = "object_store_memory";

bool IsMemory(const std::string& name) { return name == "memory" || name == kObjectStoreMemory; }

// Per-node bookkeeping resources ("node:<ip>", accelerator types) say where, not how much.
bool IsHidden(const std::string& name) {
  return absl::StartsWith(name, "node:") || absl::StartsWith(name, "accelerator_type:");
}

struct Usage {
  double used = 0;
  double total = 0;
  double spilled = 0;  // object store only: bytes on local disk
};

std::string NodeSection(const proto::GetClusterStatusReply& status) {
  std::string healthy, failures;
  for (const auto& node : status.nodes()) {
    if (node.state() == proto::NODE_ALIVE) {
      absl::StrAppend(&healthy, " 1 node_", ToHex(node.node_id()), "\n");
    } else {
      absl::StrAppend(&failures, " node_", ToHex(node.node_id()), ": NodeTerminated (ip: ",
                      node.node_ip(), ")",
                      node.state_message().empty() ? "" : ": " + node.state_message(), "\n");
    }
  }
  return absl::StrCat("Node status\n", kStatusDashes, "\n", "Healthy:\n",
                      healthy.empty() ? " (no healthy nodes)\n" : healthy, "Pending:\n",
                      " (no pending nodes)\n", "Recent failures:\n",
                      failures.empty() ? " (no failures)\n" : failures);
}

// Usage summed over the ALIVE nodes (or only the node `only`, when given).
std::map<std::string, Usage> SumUsage(const proto::GetClusterStatusReply& status,
                                      const std::string* only = nullptr) {
  absl::flat_hash_map<std::string, const proto::NodeResourceReport*> reports;
  for (const auto& report : status.reports()) reports[report.node_id()] = &report;
  std::map<std::string, Usage> usage;  // sorted by name, like `ray status`
  for (const auto& node : status.nodes()) {
    if (node.state() != proto::NODE_ALIVE) continue;
    if (only && node.node_id() != *only) continue;
    auto it = reports.find(node.node_id());
    const proto::NodeResourceReport* report = it == reports.end() ? nullptr : it->second;
    // Before its first report a node counts with its registered totals, all available.
    const auto& totals = report && !report->resources_total().empty()
                             ? report->resources_total()
                             : node.resources_total();
    for (const auto& [name, total] : totals) {
      if (IsHidden(name)) continue;
      usage[name].total += total;
      if (name == kObjectStoreMemory) continue;  // used bytes come from the store, below
      if (report) {
        auto available = report->resources_available().find(name);
        double free = available == report->resources_available().end() ? total : available->second;
        usage[name].used += std::max(0.0, total - free);
      }
    }
    if (totals.count(std::string(kObjectStoreMemory)) == 0 && node.object_store_memory() > 0) {
      usage[std::string(kObjectStoreMemory)].total += node.object_store_memory();
    }
    if (report && report->object_store_used() > 0) {
      usage[std::string(kObjectStoreMemory)].used += report->object_store_used();
    }
    if (report && report->object_store_spilled() > 0) {
      usage[std::string(kObjectStoreMemory)].spilled += report->object_store_spilled();
    }
  }
  return usage;
}

std::string UsageLines(const std::map<std::string, Usage>& usage, const std::string& indent) {
  std::string out;
  if (usage.empty()) out += indent + "(no resources)\n";
  for (const auto& [name, u] : usage) {
    if (IsMemory(name)) {
      absl::StrAppend(&out, indent, FormatBytes(u.used), "/", FormatBytes(u.total), " ", name,
                      u.spilled > 0 ? absl::StrCat(" (", FormatBytes(u.spilled), " spilled)") : "",
                      "\n");
    } else {
      absl::StrAppend(&out, indent, FormatPyFloat(u.used), "/", FormatPyFloat(u.total), " ", name,
                      "\n");
    }
  }
  return out;
}

// (infeasible, shape) -> pending requests.
using DemandCounts = std::map<std::tuple<bool, std::string>, int64_t>;

void AddDemands(const proto::NodeResourceReport& report, DemandCounts* demands) {
  for (const auto& demand : report.demands()) {
    std::map<std::string, double> shape(demand.shape().begin(), demand.shape().end());
    (*demands)[{demand.infeasible(), FormatResourceShape(shape)}] += demand.num_ready_requests();
  }
}

std::string DemandLines(const DemandCounts& demands, const std::string& indent) {
  std::string out;
  for (const auto& [key, count] : demands) {
    const auto& [infeasible, shape] = key;
    absl::StrAppend(&out, indent, shape, ": ", count, "+ pending tasks/actors",
                    infeasible ? " (infeasible: no node can ever satisfy it)" : "", "\n");
  }
  return out;
}

// `moray status -v`: each ALIVE node's own usage, and the requests waiting at it.
std::string NodeUsageSection(const proto::GetClusterStatusReply& status) {
  std::string out = absl::StrCat("\nNode usage\n", kStatusDashes, "\n");
  for (const auto& node : status.nodes()) {
    if (node.state() != proto::NODE_ALIVE) continue;
    absl::StrAppend(&out, "Node: ", ToHex(node.node_id()), " (", node.node_name(), ", ",
                    node.node_ip(), node.is_head_node() ? ", head" : "", ")\n Usage:\n",
                    UsageLines(SumUsage(status, &node.node_id()), "  "));
    DemandCounts demands;
    for (const auto& report : status.reports()) {
      if (report.node_id() == node.node_id()) AddDemands(report, &demands);
    }
    if (!demands.empty()) absl::StrAppend(&out, " Demands:\n", DemandLines(demands, "  "));
  }
  return out;
}

std::string ResourceSection(const proto::GetClusterStatusReply& status) {
  std::string out = absl::StrCat("Resources\n", kStatusDashes, "\n", "Usage:\n");
  out += UsageLines(SumUsage(status), " ");

  // Demands of alive nodes, merged by shape across nodes.
  absl::flat_hash_map<std::string, bool> alive;
  for (const auto& node : status.nodes()) alive[node.node_id()] = node.state() == proto::NODE_ALIVE;
  DemandCounts demands;
  for (const auto& report : status.reports()) {
    if (alive[report.node_id()]) AddDemands(report, &demands);
  }
  out += "\nDemands:\n";
  if (demands.empty()) out += " (no resource demands)\n";
  out += DemandLines(demands, " ");
  return out;
}

}  // namespace

std::string FormatResourceShape(const std::map<std::string, double>& shape) {
  std::string out = "{";
  for (const auto& [name, amount] : shape) {
    absl::StrAppend(&out, out.size() > 1 ? ", " : "", "'", name, "': ", FormatPyFloat(amount));
  }
  return out + "}";
}

std::string FormatClusterStatus(const proto::GetClusterStatusReply& status, absl::Time now,
                                bool verbose) {
  return absl::StrCat(BannerLine("Cluster status", now), "\n", NodeSection(status), "\n",
                      ResourceSection(status), verbose ? NodeUsageSection(status) : "");
}

}  // namespace moray::cli
