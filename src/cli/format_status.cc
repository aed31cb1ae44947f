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
#include "scheduling/group_resources.h"

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
  double used = 0;  // includes what committed bundles reserve
  double total = 0;
  double spilled = 0;  // object store only: bytes on local disk
  // Of `used`, what placement groups reserve, and how much of that their tasks and actors use.
  double reserved = 0;
  double reserved_used = 0;
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
      double free = total;
      if (report) {
        auto available = report->resources_available().find(name);
        if (available != report->resources_available().end()) free = available->second;
      }
      // A committed bundle's resources are already counted as used of the plain resource; its
      // group-scoped names say how much of the reservation is in use. The per-group wildcard
      // name counts each bundle once; the per-bundle names and the markers would count again.
      if (auto scoped = scheduling::ParseGroupResource(name)) {
        if (scoped->bundle_index == -1 && scoped->resource != scheduling::kBundleResource) {
          usage[scoped->resource].reserved += total;
          usage[scoped->resource].reserved_used += std::max(0.0, total - free);
        }
        continue;
      }
      usage[name].total += total;
      if (name == kObjectStoreMemory) continue;  // used bytes come from the store, below
      usage[name].used += std::max(0.0, total - free);
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
    auto amount = [&](double value) {
      return IsMemory(name) ? FormatBytes(value) : FormatPyFloat(value);
    };
    absl::StrAppend(&out, indent, amount(u.used), "/", amount(u.total), " ", name);
    if (u.reserved > 0) {
      absl::StrAppend(&out, " (", amount(u.reserved_used), " used of ", amount(u.reserved),
                      " reserved in placement groups)");
    }
    if (u.spilled > 0) absl::StrAppend(&out, " (", FormatBytes(u.spilled), " spilled)");
    out += "\n";
  }
  return out;
}

// (infeasible, shape) -> pending requests.
using DemandCounts = std::map<std::tuple<bool, std::string>, int64_t>;

// A request's shape in plain resource names. A request in a placement group asks group-scoped
// names (CPU_group_<G>, bundle markers); it is shown as what it asks of its group:
// "{'CPU': 1.0} (placement group <G>, bundle 0)".
std::string DemandShape(const proto::ResourceDemand& demand) {
  std::map<std::string, double> plain;
  std::string group;
  int bundle_index = -1;
  for (const auto& [name, amount] : demand.shape()) {
    auto scoped = scheduling::ParseGroupResource(name);
    if (!scoped) {
      plain[name] = amount;
      continue;
    }
    group = scoped->group.Hex();
    if (scoped->bundle_index >= 0) bundle_index = scoped->bundle_index;
    if (scoped->bundle_index == -1 && scoped->resource != scheduling::kBundleResource) {
      plain[scoped->resource] = amount;
    }
  }
  std::string out = FormatResourceShape(plain);
  if (!group.empty()) {
    absl::StrAppend(&out, " (placement group ", group,
                    bundle_index >= 0 ? absl::StrCat(", bundle ", bundle_index) : "", ")");
  }
  return out;
}

void AddDemands(const proto::NodeResourceReport& report, DemandCounts* demands) {
  for (const auto& demand : report.demands()) {
    (*demands)[{demand.infeasible(), DemandShape(demand)}] += demand.num_ready_requests();
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

// The placement groups waiting for room, counted by what they still need.
std::string GroupDemandLines(const std::vector<proto::PlacementGroupInfo>& groups,
                             const std::string& indent) {
  DemandCounts demands;
  for (const auto& group : groups) {
    if (group.state() != proto::PG_PENDING && group.state() != proto::PG_RESCHEDULING) continue;
    // A RESCHEDULING group needs only the bundles it lost.
    std::vector<std::pair<std::string, int>> shapes;  // first-seen order, with counts
    for (const auto& bundle : group.bundles()) {
      if (!bundle.node_id().empty()) continue;
      std::string shape = FormatResourceShape(
          std::map<std::string, double>(bundle.resources().begin(), bundle.resources().end()));
      auto it = std::find_if(shapes.begin(), shapes.end(),
                             [&](const auto& seen) { return seen.first == shape; });
      if (it == shapes.end()) {
        shapes.emplace_back(shape, 1);
      } else {
        ++it->second;
      }
    }
    if (shapes.empty()) continue;
    std::string text;
    for (const auto& [shape, count] : shapes) {
      absl::StrAppend(&text, text.empty() ? "" : ", ", shape, " * ", count);
    }
    absl::StrAppend(&text, " (", proto::PlacementStrategy_Name(group.strategy()), ")");
    ++demands[{group.infeasible(), text}];
  }
  std::string out;
  for (const auto& [key, count] : demands) {
    const auto& [infeasible, text] = key;
    absl::StrAppend(&out, indent, text, ": ", count, "+ pending placement groups",
                    infeasible ? " (infeasible: the cluster can never hold it as asked)" : "",
                    "\n");
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

std::string ResourceSection(const proto::GetClusterStatusReply& status,
                            const std::vector<proto::PlacementGroupInfo>& groups) {
  std::string out = absl::StrCat("Resources\n", kStatusDashes, "\n", "Usage:\n");
  out += UsageLines(SumUsage(status), " ");

  // Demands of alive nodes, merged by shape across nodes.
  absl::flat_hash_map<std::string, bool> alive;
  for (const auto& node : status.nodes()) alive[node.node_id()] = node.state() == proto::NODE_ALIVE;
  DemandCounts demands;
  for (const auto& report : status.reports()) {
    if (alive[report.node_id()]) AddDemands(report, &demands);
  }
  std::string lines = DemandLines(demands, " ") + GroupDemandLines(groups, " ");
  absl::StrAppend(&out, "\nDemands:\n", lines.empty() ? " (no resource demands)\n" : lines);
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
                                bool verbose,
                                const std::vector<proto::PlacementGroupInfo>& groups) {
  return absl::StrCat(BannerLine("Cluster status", now), "\n", NodeSection(status), "\n",
                      ResourceSection(status, groups), verbose ? NodeUsageSection(status) : "");
}

}  // namespace moray::cli
