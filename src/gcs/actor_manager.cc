#include "gcs/actor_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/id_status.h"
#include "gcs/actor_columns.h"
#include "spdlog/spdlog.h"

namespace moray::gcs {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

std::string Describe(const proto::ActorInfo& a) {
  std::string out = absl::StrCat("actor ", ToHex(a.actor_id()));
  if (!a.class_name().empty()) absl::StrAppend(&out, " (", a.class_name(), ")");
  return out;
}

}  // namespace

bool IsValidActorTransition(proto::ActorState from, proto::ActorState to) {
  switch (from) {
    case proto::DEPENDENCIES_UNREADY: return to == proto::PENDING_CREATION || to == proto::DEAD;
    case proto::PENDING_CREATION: return to == proto::ALIVE || to == proto::DEAD;
    case proto::ALIVE: return to == proto::RESTARTING || to == proto::DEAD;
    case proto::RESTARTING: return to == proto::ALIVE || to == proto::DEAD;
    default: return false;  // DEAD is final
  }
}

ActorManager::ActorManager(GcsTableStorage* storage) : storage_(storage) {
  auto entries = storage_->Scan(Table::kActors, "");
  if (!entries.ok()) {
    spdlog::error("could not load the actor table: {}", entries.status().ToString());
    return;
  }
  std::vector<proto::ActorInfo> loaded;
  for (const auto& [key, value] : *entries) {
    proto::ActorInfo info;
    if (!info.ParseFromString(value)) {
      spdlog::error("skipping corrupt actor record {}", ToHex(key));
      continue;
    }
    loaded.push_back(std::move(info));
  }
  std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
    if (a.register_time_ms() != b.register_time_ms()) {
      return a.register_time_ms() < b.register_time_ms();
    }
    return a.actor_id() < b.actor_id();
  });
  absl::MutexLock lock(&mu_);
  for (auto& info : loaded) {
    const uint64_t seq = next_seq_++;
    const ActorId id = ActorId::FromBinary(info.actor_id());
    by_seq_[seq] = id;
    if (!info.name().empty() && info.state() != proto::DEAD) {
      names_[{info.ray_namespace(), info.name()}] = id;
    }
    actors_[id] = Entry{seq, std::move(info)};
  }
}

absl::Status ActorManager::Store(const proto::ActorInfo& info) {
  auto put = storage_->Put(Table::kActors, info.actor_id(), info.SerializeAsString(),
                           /*overwrite=*/true);
  return put.ok() ? absl::OkStatus() : put.status();
}

absl::Status ActorManager::Register(proto::ActorInfo actor) {
  if (auto id = RequiredId<ActorId>(actor.actor_id(), "RegisterActor: actor_id"); !id.ok()) {
    return id.status();
  }
  {
    absl::MutexLock lock(&mu_);
    if (auto s = RegisterLocked(&actor); !s.ok()) return s;
  }
  Notify(actor);
  return absl::OkStatus();
}

absl::Status ActorManager::RegisterLocked(proto::ActorInfo* actor_ptr) {
  proto::ActorInfo& actor = *actor_ptr;
  const ActorId id = ActorId::FromBinary(actor.actor_id());
  if (actors_.contains(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat(Describe(actors_[id].info), " is already registered"));
  }
  if (!actor.name().empty()) {
    auto it = names_.find(NameKey{actor.ray_namespace(), actor.name()});
    if (it != names_.end()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "an actor named '", actor.name(), "' already exists in namespace '",
          actor.ray_namespace(), "' (", Describe(actors_[it->second].info),
          "); pick another name, or get the existing one with GetActor(name, namespace)"));
    }
  }
  actor.set_state(proto::PENDING_CREATION);
  actor.set_register_time_ms(NowMs());
  actor.set_start_time_ms(0);
  actor.set_end_time_ms(0);
  actor.set_num_restarts(0);
  actor.clear_death_cause();
  if (auto s = Store(actor); !s.ok()) return s;
  const uint64_t seq = next_seq_++;
  by_seq_[seq] = id;
  if (!actor.name().empty()) names_[{actor.ray_namespace(), actor.name()}] = id;
  spdlog::info("{} registered (name '{}', namespace '{}')", Describe(actor), actor.name(),
               actor.ray_namespace());
  actors_[id] = Entry{seq, actor};
  return absl::OkStatus();
}

void ActorManager::ReleaseName(const proto::ActorInfo& info) {
  if (info.name().empty()) return;
  auto it = names_.find(NameKey{info.ray_namespace(), info.name()});
  if (it != names_.end() && it->second == ActorId::FromBinary(info.actor_id())) names_.erase(it);
}

absl::StatusOr<proto::ActorInfo> ActorManager::Update(const proto::UpdateActorRequest& request) {
  absl::StatusOr<proto::ActorInfo> updated;
  {
    absl::MutexLock lock(&mu_);
    updated = UpdateLocked(request);
  }
  if (updated.ok()) Notify(*updated);
  return updated;
}

absl::StatusOr<proto::ActorInfo> ActorManager::UpdateLocked(
    const proto::UpdateActorRequest& request) {
  auto it = actors_.find(ActorId::FromBinary(request.actor_id()));
  if (it == actors_.end()) {
    return absl::NotFoundError(absl::StrCat("no actor with id ", ToHex(request.actor_id())));
  }
  Entry& entry = it->second;
  const proto::ActorState from = entry.info.state();
  const proto::ActorState to = request.state();
  if (!IsValidActorTransition(from, to)) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(entry.info), " cannot go from ", ActorStateName(from), " to ",
                     ActorStateName(to)));
  }
  // Work on a copy so a failed storage write leaves the table unchanged.
  proto::ActorInfo info = entry.info;
  info.set_state(to);
  switch (to) {
    case proto::ALIVE:
      *info.mutable_address() = request.address();
      info.set_node_id(request.address().node_id());
      info.set_pid(request.pid());
      if (info.start_time_ms() == 0) info.set_start_time_ms(NowMs());
      break;
    case proto::RESTARTING:
      if (info.max_restarts() >= 0 && info.num_restarts() >= info.max_restarts()) {
        return absl::FailedPreconditionError(
            absl::StrCat(Describe(info), " cannot restart: ", info.num_restarts(), " of ",
                         info.max_restarts(), " restarts used"));
      }
      info.set_num_restarts(info.num_restarts() + 1);
      // Its worker is gone; the next ALIVE brings the new one.
      info.clear_address();
      info.clear_node_id();
      info.set_pid(0);
      break;
    case proto::DEAD:
      *info.mutable_death_cause() = request.death_cause();
      info.set_end_time_ms(NowMs());
      break;
    default:
      break;
  }
  if (auto s = Store(info); !s.ok()) return s;
  if (to == proto::DEAD) ReleaseName(info);
  entry.info = std::move(info);
  spdlog::info("{} {} -> {}", Describe(entry.info), ActorStateName(from), ActorStateName(to));
  return entry.info;
}

absl::StatusOr<proto::ActorInfo> ActorManager::Get(const ActorId& actor_id) const {
  absl::MutexLock lock(&mu_);
  auto it = actors_.find(actor_id);
  if (it == actors_.end()) {
    return absl::NotFoundError(absl::StrCat("no actor with id ", actor_id.Hex()));
  }
  return it->second.info;
}

absl::StatusOr<proto::ActorInfo> ActorManager::GetNamed(std::string_view name,
                                                        std::string_view ray_namespace) const {
  absl::MutexLock lock(&mu_);
  auto it = names_.find(NameKey{std::string(ray_namespace), std::string(name)});
  if (it == names_.end()) {
    return absl::NotFoundError(absl::StrCat("no live actor named '", std::string(name),
                                            "' in namespace '", std::string(ray_namespace), "'"));
  }
  return actors_.at(it->second).info;
}

absl::StatusOr<proto::GetActorsReply> ActorManager::GetActors(
    const proto::GetActorsRequest& request) const {
  std::vector<ActorFilter> filters;
  for (const auto& f : request.filters()) {
    auto filter = ActorFilter::Create(f);
    if (!filter.ok()) return filter.status();
    filters.push_back(*std::move(filter));
  }
  proto::GetActorsReply reply;
  absl::MutexLock lock(&mu_);
  for (const auto& [seq, id] : by_seq_) {
    const proto::ActorInfo& info = actors_.at(id).info;
    bool match = std::all_of(filters.begin(), filters.end(),
                             [&](const ActorFilter& f) { return f.Matches(info); });
    if (!match) continue;
    reply.set_total(reply.total() + 1);
    if (request.limit() <= 0 || reply.actors_size() < request.limit()) {
      *reply.add_actors() = info;
    }
  }
  reply.set_num_truncated(reply.total() - reply.actors_size());
  return reply;
}

absl::StatusOr<int64_t> ActorManager::OnJobFinished(const JobId& job_id) {
  std::vector<proto::ActorInfo> changed;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    status = JobFinishedLocked(job_id, &changed);
  }
  for (const auto& info : changed) Notify(info);
  if (!status.ok()) return status;
  return static_cast<int64_t>(changed.size());
}

absl::Status ActorManager::JobFinishedLocked(const JobId& job_id,
                                             std::vector<proto::ActorInfo>* changed) {
  int64_t count = 0;
  for (const auto& [seq, id] : by_seq_) {
    Entry& entry = actors_.at(id);
    if (JobId::FromBinary(entry.info.job_id()) != job_id || entry.info.is_detached() ||
        entry.info.state() == proto::DEAD) {
      continue;
    }
    proto::ActorInfo info = entry.info;
    info.set_state(proto::DEAD);
    info.mutable_death_cause()->set_reason(proto::ACTOR_DEATH_OWNER_DIED);
    info.mutable_death_cause()->set_message("owner job finished");
    info.set_end_time_ms(NowMs());
    if (auto s = Store(info); !s.ok()) return s;
    ReleaseName(info);
    entry.info = info;
    changed->push_back(std::move(info));
    ++count;
  }
  if (count > 0) spdlog::info("job {} finished: {} actor(s) now DEAD", job_id.Hex(), count);
  return absl::OkStatus();
}

}  // namespace moray::gcs
