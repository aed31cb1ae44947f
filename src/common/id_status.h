// An id that a request must carry: the edge between a peer's bytes and the typed ids inside.
// Id::FromBinary turns anything malformed into nil, which is right for optional fields; a
// handler whose request names the thing it acts on uses RequiredId, so that a wrong-sized or
// missing id is an InvalidArgument naming the field instead of a "not found" about nothing.
//
//   auto actor_id = RequiredId<ActorId>(request.actor_id(), "actor_id");
//   if (!actor_id.ok()) return actor_id.status();  // "actor_id must be 16 bytes, got 3"
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/id.h"

namespace moray {

template <typename IdType>
absl::StatusOr<IdType> RequiredId(std::string_view bytes, absl::string_view field) {
  if (bytes.size() != IdType::kSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be ", IdType::kSize, " bytes, got ", bytes.size()));
  }
  IdType id = IdType::FromBinary(bytes);
  if (id.IsNil()) return absl::InvalidArgumentError(absl::StrCat(field, " is the nil id"));
  return id;
}

}  // namespace moray
