#include "gcs/actor_columns.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/id.h"

namespace moray::gcs {

const std::vector<std::string>& ActorColumns() {
  static const auto* columns = new std::vector<std::string>{
      "actor_id",     "class_name",   "state",        "job_id",      "name",
      "node_id",      "pid",          "ray_namespace", "is_detached", "max_restarts",
      "num_restarts", "worker_id",    "ip",           "death_reason"};
  return *columns;
}

std::string ActorStateName(proto::ActorState state) { return proto::ActorState_Name(state); }

std::string ActorDeathReasonName(proto::ActorDeathReason reason) {
  if (reason == proto::ACTOR_DEATH_UNSPECIFIED) return "";
  std::string name = proto::ActorDeathReason_Name(reason);
  constexpr char kPrefix[] = "ACTOR_DEATH_";
  return absl::StartsWith(name, kPrefix) ? name.substr(sizeof(kPrefix) - 1) : name;
}

std::optional<std::string> ActorColumnValue(const proto::ActorInfo& a, std::string_view key) {
  if (key == "actor_id") return ToHex(a.actor_id());
  if (key == "class_name") return a.class_name();
  if (key == "state") return ActorStateName(a.state());
  if (key == "job_id") return ToHex(a.job_id());
  if (key == "name") return a.name();
  if (key == "node_id") return ToHex(a.node_id());
  if (key == "pid") return a.pid() == 0 ? "" : absl::StrCat(a.pid());
  if (key == "ray_namespace") return a.ray_namespace();
  // Booleans as the table prints them.
  if (key == "is_detached") return a.is_detached() ? "True" : "False";
  if (key == "max_restarts") return absl::StrCat(a.max_restarts());
  if (key == "num_restarts") return absl::StrCat(a.num_restarts());
  if (key == "worker_id") return ToHex(a.address().worker_id());
  if (key == "ip") return a.address().ip();
  if (key == "death_reason") return ActorDeathReasonName(a.death_cause().reason());
  return std::nullopt;
}

absl::StatusOr<ActorFilter> ActorFilter::Create(const proto::StateFilter& filter) {
  auto parsed = ColumnFilter::Create(filter, ActorColumns(), "actors");
  if (!parsed.ok()) return parsed.status();
  ActorFilter out;
  out.filter_ = std::move(*parsed);
  return out;
}

bool ActorFilter::Matches(const proto::ActorInfo& actor) const {
  return filter_.Accepts(ActorColumnValue(actor, filter_.key()));
}

}  // namespace moray::gcs
