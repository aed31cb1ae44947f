#include "cli/memory_report.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/format_util.h"
#include "common/id.h"
#include "common/option_values.h"

namespace moray::cli {
namespace {

std::string Short(const std::string& hex) { return hex.substr(0, 8); }

// A plain table: two spaces between columns, left-aligned, trailing spaces trimmed.
std::string PlainTable(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      absl::StrAppend(&text, cells[i]);
      if (i + 1 < cells.size()) text.append(widths[i] - cells[i].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    absl::StrAppend(&out, text, "\n");
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

std::string OwnerText(const MemoryObject& object) {
  if (object.owner_ip.empty() && object.owner_worker_id.empty()) return "unknown";
  std::string text = object.owner_ip.empty() ? "?" : object.owner_ip;
  if (object.owner_pid != 0) absl::StrAppend(&text, " pid=", object.owner_pid);
  if (!object.owner_type.empty()) absl::StrAppend(&text, " ", object.owner_type);
  if (object.owner_pid == 0 && !object.owner_worker_id.empty()) {
    absl::StrAppend(&text, " worker=", Short(object.owner_worker_id));
  }
  return text;
}

std::string ReferencesText(const MemoryObject& object) {
  std::vector<std::string> parts;
  for (const auto& ref : object.references) {
    std::vector<std::string> counts;
    if (ref.is_owner) counts.push_back("owner");
    if (ref.local_refs > 0) counts.push_back(absl::StrCat(ref.local_refs, " local"));
    if (ref.submitted_task_refs > 0) {
      counts.push_back(absl::StrCat(ref.submitted_task_refs, " in pending tasks"));
    }
    if (ref.contained_in_refs > 0) {
      counts.push_back(absl::StrCat(ref.contained_in_refs, " in objects"));
    }
    if (ref.num_borrowers > 0) counts.push_back(absl::StrCat(ref.num_borrowers, " borrowers"));
    parts.push_back(
        absl::StrCat(ref.reference_type, " pid=", ref.pid,
                     counts.empty() ? "" : absl::StrCat(" (", absl::StrJoin(counts, ", "), ")")));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, "; ");
}

std::string LocationsText(const MemoryObject& object) {
  if (object.in_owner_memory) return "owner memory";
  std::vector<std::string> parts;
  for (const auto& copy : object.copies) {
    std::string text = absl::StrCat(copy.spilled   ? "spilled"
                                    : copy.primary ? "primary"
                                                   : "secondary",
                                    "@", Short(copy.node_id));
    std::vector<std::string> notes;
    if (copy.spilled && !copy.primary) notes.push_back("secondary");
    if (copy.pins > 0) notes.push_back(absl::StrCat("pinned ", copy.pins));
    if (!copy.sealed) notes.push_back("being written");
    if (!notes.empty()) absl::StrAppend(&text, " (", absl::StrJoin(notes, ", "), ")");
    parts.push_back(std::move(text));
  }
  if (parts.empty()) return object.size < 0 ? "pending (no value yet)" : "-";
  return absl::StrJoin(parts, "; ");
}

uint64_t UnitBytes(const std::string& units) {
  if (units == "KB") return 1ull << 10;
  if (units == "MB") return 1ull << 20;
  if (units == "GB") return 1ull << 30;
  return 1;
}

}  // namespace

absl::StatusOr<MemoryGroupBy> ParseMemoryGroupBy(std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(std::string(text));
  if (lower == "node") return MemoryGroupBy::kNode;
  if (lower == "owner") return MemoryGroupBy::kOwner;
  return absl::InvalidArgumentError(
      absl::StrCat("--group-by must be node or owner, not ", QuoteValue(text)));
}

absl::StatusOr<std::string> ParseMemoryUnits(std::string_view text) {
  const std::string upper = absl::AsciiStrToUpper(std::string(text));
  if (upper == "B" || upper == "KB" || upper == "MB" || upper == "GB") return upper;
  return absl::InvalidArgumentError(
      absl::StrCat("--units must be one of B, KB, MB or GB, not ", QuoteValue(text)));
}

std::string FormatMemorySize(int64_t bytes, const std::string& units) {
  if (bytes < 0) return "?";
  const uint64_t unit = UnitBytes(units);
  if (unit == 1) return absl::StrCat(bytes, " B");
  return absl::StrFormat("%.2f %s", static_cast<double>(bytes) / static_cast<double>(unit), units);
}

MemoryReport BuildMemoryReport(const MemoryInputs& inputs) {
  MemoryReport report;
  report.num_dropped = inputs.objects.num_dropped();
  absl::flat_hash_map<std::string, size_t> index;  // object id hex -> report.objects
  auto object_of = [&](const std::string& hex) -> MemoryObject& {
    auto [it, added] = index.try_emplace(hex, report.objects.size());
    if (added) {
      report.objects.emplace_back();
      report.objects.back().object_id = hex;
    }
    return report.objects[it->second];
  };
  for (const auto& record : inputs.objects.objects()) {
    MemoryObject& object = object_of(ToHex(record.object_id()));
    ObjectReference ref{.ip = record.ip(),
                        .pid = record.pid(),
                        .worker_id = ToHex(record.worker_id()),
                        .type = record.type(),
                        .reference_type = record.reference_type(),
                        .is_owner = record.is_owner(),
                        .local_refs = record.local_refs(),
                        .submitted_task_refs = record.submitted_task_refs(),
                        .contained_in_refs = record.contained_in_refs(),
                        .num_borrowers = record.num_borrowers()};
    if (record.is_owner()) {
      object.owner_ip = record.ip();
      object.owner_pid = record.pid();
      object.owner_worker_id = ref.worker_id;
      object.owner_node_id = ToHex(record.node_id());
      object.owner_type = record.type();
      object.references.insert(object.references.begin(), std::move(ref));
    } else {
      object.references.push_back(std::move(ref));
    }
    object.size = std::max(object.size, record.object_size());
  }
  for (const auto& store : inputs.stores) {
    NodeMemorySummary summary;
    summary.node_id = ToHex(store.node.node_id());
    summary.node_ip = store.node.node_ip();
    if (!store.listing.ok()) {
      summary.error = std::string(store.listing.status().message());
      report.nodes.push_back(std::move(summary));
      continue;
    }
    const proto::ListStoreObjectsReply& listing = *store.listing;
    summary.num_objects = listing.total();
    summary.num_primary = listing.num_primary();
    summary.num_secondary = listing.num_secondary();
    summary.object_bytes = listing.total_bytes();
    summary.used = listing.used();
    summary.capacity = listing.capacity();
    summary.num_spilled = listing.num_spilled();
    summary.spilled_bytes = listing.spilled_bytes();
    summary.num_listed = listing.objects_size();
    report.num_store_objects_not_listed += listing.num_truncated();
    for (const auto& stored : listing.objects()) {
      MemoryObject& object = object_of(ToHex(stored.object_id()));
      object.copies.push_back({.node_id = summary.node_id,
                               .node_ip = summary.node_ip,
                               .primary = stored.primary(),
                               .pins = stored.pins(),
                               .spilled = stored.spilled(),
                               .sealed = stored.sealed()});
      if (object.size < 0) object.size = static_cast<int64_t>(stored.size());
      if (object.owner_worker_id.empty() && !stored.owner().worker_id().empty()) {
        object.owner_worker_id = ToHex(stored.owner().worker_id());
        object.owner_ip = stored.owner().ip();
        object.owner_node_id = ToHex(stored.owner().node_id());
      }
    }
    report.nodes.push_back(std::move(summary));
  }
  for (MemoryObject& object : report.objects) {
    std::stable_sort(
        object.copies.begin(), object.copies.end(),
        [](const ObjectCopy& a, const ObjectCopy& b) { return a.primary && !b.primary; });
    bool owner_has_value = false;
    for (const auto& ref : object.references) owner_has_value |= ref.is_owner;
    object.in_owner_memory = object.copies.empty() && owner_has_value && object.size >= 0;
  }
  std::sort(report.objects.begin(), report.objects.end(),
            [](const MemoryObject& a, const MemoryObject& b) {
              return a.size != b.size ? a.size > b.size : a.object_id < b.object_id;
            });
  return report;
}

std::string FormatMemoryReport(const MemoryReport& report, const MemoryOptions& options,
                               absl::Time now) {
  const std::string& units = options.units;
  std::string out =
      absl::StrCat("======== Object references status: ", FormatDateTime(now), " ========\n");
  absl::StrAppend(&out, "Grouped by ",
                  options.group_by == MemoryGroupBy::kNode ? "the owner's node" : "owner",
                  "; sizes in ", units, "; largest first, at most ", options.num_entries,
                  " objects per group.\n");
  if (!options.stats_only) {
    // Groups in order of their largest object (objects are sorted already).
    std::vector<std::string> order;
    std::map<std::string, std::vector<const MemoryObject*>> groups;
    std::map<std::string, std::string> titles;
    for (const MemoryObject& object : report.objects) {
      std::string key, title;
      if (options.group_by == MemoryGroupBy::kNode) {
        key = object.owner_node_id;
        std::string ip;
        for (const auto& node : report.nodes) {
          if (node.node_id == key) ip = node.node_ip;
        }
        if (ip.empty()) ip = object.owner_ip;
        title = key.empty() ? "Objects whose owner's node is unknown"
                            : absl::StrCat("Objects owned on node ", key,
                                           ip.empty() ? "" : absl::StrCat(" (", ip, ")"));
      } else {
        key = object.owner_worker_id;
        title = key.empty()
                    ? "Objects whose owner is unknown"
                    : absl::StrCat("Objects owned by ", OwnerText(object), " (worker ", key, ")");
      }
      if (!groups.contains(key)) {
        order.push_back(key);
        titles[key] = title;
      }
      groups[key].push_back(&object);
    }
    if (report.objects.empty()) absl::StrAppend(&out, "\nNo objects in the cluster.\n");
    for (const std::string& key : order) {
      const auto& objects = groups[key];
      absl::StrAppend(&out, "\n--- ", titles[key], " ---\n");
      std::vector<std::vector<std::string>> rows;
      for (const MemoryObject* object : objects) {
        if (static_cast<int64_t>(rows.size()) >= options.num_entries) break;
        rows.push_back({object->object_id, FormatMemorySize(object->size, units),
                        OwnerText(*object), ReferencesText(*object), LocationsText(*object)});
      }
      absl::StrAppend(&out,
                      PlainTable({"OBJECT_ID", "SIZE", "OWNER", "REFERENCES", "LOCATIONS"}, rows));
      if (objects.size() > rows.size()) {
        absl::StrAppend(&out, "... ", objects.size() - rows.size(),
                        " more objects in this group not shown (--num-entries)\n");
      }
    }
  }
  absl::StrAppend(&out, "\n--- Object store per node ---\n");
  std::vector<std::vector<std::string>> rows;
  int64_t objects = 0, primary = 0, secondary = 0, spilled = 0;
  uint64_t used = 0, capacity = 0, spilled_bytes = 0;
  for (const auto& node : report.nodes) {
    if (!node.error.empty()) {
      rows.push_back({node.node_id, node.node_ip, "unavailable: " + node.error});
      continue;
    }
    rows.push_back({node.node_id, node.node_ip, absl::StrCat(node.num_objects),
                    absl::StrCat(node.num_primary), absl::StrCat(node.num_secondary),
                    FormatMemorySize(static_cast<int64_t>(node.used), units),
                    FormatMemorySize(static_cast<int64_t>(node.capacity), units),
                    absl::StrCat(node.num_spilled),
                    FormatMemorySize(static_cast<int64_t>(node.spilled_bytes), units)});
    objects += node.num_objects;
    primary += node.num_primary;
    secondary += node.num_secondary;
    spilled += node.num_spilled;
    used += node.used;
    capacity += node.capacity;
    spilled_bytes += node.spilled_bytes;
  }
  absl::StrAppend(&out, PlainTable({"NODE_ID", "IP", "OBJECTS", "PRIMARY", "SECONDARY", "USED",
                                    "CAPACITY", "SPILLED", "SPILLED_SIZE"},
                                   rows));
  int64_t in_owner_memory = 0, owner_memory_bytes = 0;
  for (const MemoryObject& object : report.objects) {
    if (!object.in_owner_memory) continue;
    ++in_owner_memory;
    owner_memory_bytes += object.size;
  }
  absl::StrAppend(
      &out, "\n--- Totals ---\n", report.objects.size(), " objects known; ", objects,
      " copies in object stores (", primary, " primary, ", secondary, " secondary), ",
      FormatMemorySize(static_cast<int64_t>(used), units), " used of ",
      FormatMemorySize(static_cast<int64_t>(capacity), units),
      absl::StrFormat(
          " (%.1f%% full)",
          capacity == 0 ? 0.0 : 100.0 * static_cast<double>(used) / static_cast<double>(capacity)),
      "; ", spilled, " spilled (", FormatMemorySize(static_cast<int64_t>(spilled_bytes), units),
      "); ", in_owner_memory, " in owners' memory (", FormatMemorySize(owner_memory_bytes, units),
      ").\n");
  if (report.num_dropped > 0) {
    absl::StrAppend(&out, "Note: processes left ", report.num_dropped,
                    " objects out of their bounded snapshots; they are not shown.\n");
  }
  if (report.num_store_objects_not_listed > 0) {
    absl::StrAppend(&out, "Note: ", report.num_store_objects_not_listed,
                    " objects in object stores were left out of the nodes' listings (the "
                    "smallest; at most 10000 per node); the per-node counts include them.\n");
  }
  return out;
}

}  // namespace moray::cli
