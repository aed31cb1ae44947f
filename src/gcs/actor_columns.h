// The columns of an actor record as the state API shows and filters them (`moray list actors`):
// one string per column, ids in hex, enums by name, unknown values empty. The GCS filters with
// these strings and the CLI prints them, so `--filter state=alive` matches what the table shows.
//
//   ActorColumnValue(actor, "state")   // -> "ALIVE"
//   auto filter = ActorFilter::Create(state_filter);  // InvalidArgument for an unknown key
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gcs.pb.h"
#include "gcs/column_filter.h"

namespace moray::gcs {

// Filterable actor columns: the default ones, then the --detail ones.
const std::vector<std::string>& ActorColumns();

// The actor's value of `key` (one of ActorColumns()), or nullopt for another key.
std::optional<std::string> ActorColumnValue(const proto::ActorInfo& actor, std::string_view key);

// "ALIVE", "DEAD", ...
std::string ActorStateName(proto::ActorState state);
// "OWNER_DIED", "KILLED", ...; "" when unspecified.
std::string ActorDeathReasonName(proto::ActorDeathReason reason);

// A filter checked once, then applied to many actors.
class ActorFilter {
 public:
  // InvalidArgument for an unknown key (the message lists the valid ones) or operator.
  static absl::StatusOr<ActorFilter> Create(const proto::StateFilter& filter);
  bool Matches(const proto::ActorInfo& actor) const;

 private:
  ColumnFilter filter_;
};

}  // namespace moray::gcs
