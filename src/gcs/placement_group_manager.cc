#include "gcs/placement_group_manager.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id_status.h"
#include "gcs/placement_group_columns.h"
#include "scheduling/resource_set.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

std::string Describe(const proto::PlacementGroupInfo& g) {
  std::string out = absl::StrCat("placement group ", ToHex(g.placement_group_id()));
  if (!g.name().empty()) absl::StrAppend(&out, " ('", g.name(), "')");
  return out;
}

}  // namespace

absl::Status ValidatePlacementGroup(const proto::PlacementGroupInfo& group) {
  if (!proto::PlacementStrategy_IsValid(group.strategy())) {
    return absl::InvalidArgumentError(
        absl::StrCat("placement group: unknown strategy ", group.strategy(),
                     " (PACK, SPREAD, STRICT_PACK or STRICT_SPREAD)"));
  }
  if (group.bundles().empty()) {
    return absl::InvalidArgumentError("placement group: the bundle list is empty");
  }
  for (int i = 0; i < group.bundles_size(); ++i) {
    const auto& resources = group.bundles(i).resources();
    auto set = scheduling::ResourceSet::FromMap(
        std::map<std::string, double>(resources.begin(), resources.end()));
    if (!set.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("placement group: bundle ", i, ": ", set.status().message()));
    }
    if (set->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "placement group: bundle ", i, " is empty (every bundle must ask for something)"));
    }
  }
  return absl::OkStatus();
}

PlacementGroupManager::PlacementGroupManager(GcsTableStorage* storage) : storage_(storage) {
  auto entries = storage_->Scan(Table::kPlacementGroups, "");
  if (!entries.ok()) {
    spdlog::error("could not load the placement-group table: {}", entries.status().ToString());
    return;
  }
  std::vector<proto::PlacementGroupInfo> loaded;
  for (const auto& [key, value] : *entries) {
    proto::PlacementGroupInfo info;
    if (info.ParseFromString(value)) loaded.push_back(std::move(info));
  }
  std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.create_time_ms(), a.placement_group_id()) <
           std::make_pair(b.create_time_ms(), b.placement_group_id());
  });
  absl::MutexLock lock(&mu_);
  for (auto& info : loaded) {
    const PlacementGroupId id = PlacementGroupId::FromBinary(info.placement_group_id());
    const uint64_t seq = next_seq_++;
    by_seq_[seq] = id;
    if (!info.name().empty() && info.state() != proto::PG_REMOVED) {
      names_[{info.ray_namespace(), info.name()}] = id;
    }
    groups_[id] = Entry{seq, std::move(info)};
  }
}

absl::Status PlacementGroupManager::Store(const proto::PlacementGroupInfo& info) {
  auto put = storage_->Put(Table::kPlacementGroups, info.placement_group_id(),
                           info.SerializeAsString(), /*overwrite=*/true);
  return put.ok() ? absl::OkStatus() : put.status();
}

absl::StatusOr<proto::PlacementGroupInfo> PlacementGroupManager::Register(
    proto::PlacementGroupInfo group) {
  auto id = RequiredId<PlacementGroupId>(group.placement_group_id(), "placement_group_id");
  if (!id.ok()) return id.status();
  if (auto valid = ValidatePlacementGroup(group); !valid.ok()) return valid;
  group.set_state(proto::PG_PENDING);
  group.set_create_time_ms(NowMs());
  group.set_created_time_ms(0);
  group.set_removed_time_ms(0);
  group.set_scheduling_attempts(0);
  group.set_state_message("");
  group.set_infeasible(false);
  for (int i = 0; i < group.bundles_size(); ++i) {
    group.mutable_bundles(i)->set_index(i);
    group.mutable_bundles(i)->clear_node_id();
  }
  {
    absl::MutexLock lock(&mu_);
    if (groups_.contains(*id)) {
      return absl::AlreadyExistsError(absl::StrCat(Describe(group), " is already registered"));
    }
    const NameKey name{group.ray_namespace(), group.name()};
    if (!group.name().empty() && names_.contains(name)) {
      return absl::AlreadyExistsError(absl::StrCat("a placement group named '", group.name(),
                                                   "' already exists in namespace '",
                                                   group.ray_namespace(), "'"));
    }
    if (auto s = Store(group); !s.ok()) return s;
    const uint64_t seq = next_seq_++;
    by_seq_[seq] = *id;
    if (!group.name().empty()) names_[name] = *id;
    groups_[*id] = Entry{seq, group};
  }
  Notify(group);
  return group;
}

absl::Status PlacementGroupManager::Update(const proto::PlacementGroupInfo& group) {
  const PlacementGroupId id = PlacementGroupId::FromBinary(group.placement_group_id());
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(id);
    if (it == groups_.end()) {
      return absl::NotFoundError(absl::StrCat("no placement group with id ", id.Hex()));
    }
    if (it->second.info.state() == proto::PG_REMOVED) {
      return absl::FailedPreconditionError(absl::StrCat(Describe(group), " was removed"));
    }
    if (auto s = Store(group); !s.ok()) return s;
    it->second.info = group;
  }
  Notify(group);
  return absl::OkStatus();
}

absl::StatusOr<proto::PlacementGroupInfo> PlacementGroupManager::MarkRemoved(
    const PlacementGroupId& id, const std::string& message) {
  proto::PlacementGroupInfo info;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(id);
    if (it == groups_.end()) {
      return absl::NotFoundError(absl::StrCat("no placement group with id ", id.Hex()));
    }
    if (it->second.info.state() == proto::PG_REMOVED) return it->second.info;
    info = it->second.info;
    info.set_state(proto::PG_REMOVED);
    info.set_state_message(message);
    info.set_removed_time_ms(NowMs());
    if (auto s = Store(info); !s.ok()) return s;
    it->second.info = info;
    if (!info.name().empty()) names_.erase({info.ray_namespace(), info.name()});
  }
  spdlog::info("{} removed: {}", Describe(info), message);
  Notify(info);
  return info;
}

absl::StatusOr<proto::PlacementGroupInfo> PlacementGroupManager::Get(
    const PlacementGroupId& id) const {
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(id);
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("no placement group with id ", id.Hex()));
  }
  return it->second.info;
}

absl::StatusOr<proto::PlacementGroupInfo> PlacementGroupManager::GetNamed(
    std::string_view name, std::string_view ray_namespace) const {
  absl::MutexLock lock(&mu_);
  auto it = names_.find({std::string(ray_namespace), std::string(name)});
  if (it == names_.end()) {
    return absl::NotFoundError(absl::StrCat("no placement group named '", std::string(name),
                                            "' in namespace '", std::string(ray_namespace), "'"));
  }
  return groups_.at(it->second).info;
}

absl::StatusOr<proto::GetPlacementGroupsReply> PlacementGroupManager::List(
    const proto::GetPlacementGroupsRequest& request) const {
  std::vector<PlacementGroupFilter> filters;
  for (const auto& f : request.filters()) {
    auto filter = PlacementGroupFilter::Create(f);
    if (!filter.ok()) return filter.status();
    filters.push_back(*std::move(filter));
  }
  proto::GetPlacementGroupsReply reply;
  absl::MutexLock lock(&mu_);
  for (const auto& [seq, id] : by_seq_) {
    const proto::PlacementGroupInfo& info = groups_.at(id).info;
    if (!std::all_of(filters.begin(), filters.end(),
                     [&](const PlacementGroupFilter& f) { return f.Matches(info); })) {
      continue;
    }
    reply.set_total(reply.total() + 1);
    if (request.limit() <= 0 || reply.groups_size() < request.limit()) *reply.add_groups() = info;
  }
  reply.set_num_truncated(reply.total() - reply.groups_size());
  return reply;
}

std::vector<proto::PlacementGroupInfo> PlacementGroupManager::Live() const {
  std::vector<proto::PlacementGroupInfo> live;
  absl::MutexLock lock(&mu_);
  for (const auto& [seq, id] : by_seq_) {
    const auto& info = groups_.at(id).info;
    if (info.state() != proto::PG_REMOVED) live.push_back(info);
  }
  return live;
}

std::vector<PlacementGroupId> PlacementGroupManager::OfFinishedJob(const JobId& job_id) const {
  std::vector<PlacementGroupId> ids;
  absl::MutexLock lock(&mu_);
  for (const auto& [seq, id] : by_seq_) {
    const auto& info = groups_.at(id).info;
    if (info.state() != proto::PG_REMOVED && !info.is_detached() &&
        JobId::FromBinary(info.creator_job_id()) == job_id) {
      ids.push_back(id);
    }
  }
  return ids;
}

}  // namespace moray::gcs
