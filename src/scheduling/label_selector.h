// Label selectors: which nodes a task or actor may use, by the nodes' labels
// (`moray start --labels`). Each entry of the selector must hold:
//   "v"          the label equals v
//   "!v"         the label is absent or differs from v
//   "in(a,b)"    the label is one of a, b
//   "!in(a,b)"   the label is absent or none of a, b
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/map.h"

namespace moray::scheduling {

using Labels = google::protobuf::Map<std::string, std::string>;

// Whether `labels` satisfy every entry of `selector`.
bool MatchesLabels(const Labels& labels, const Labels& selector);
// InvalidArgument naming the entry for a malformed selector (an empty key, "in(" without ")",
// an empty list).
absl::Status ValidateLabelSelector(const Labels& selector);
// "{region: us-west, zone: !in(a,b)}" for messages.
std::string DescribeSelector(const Labels& selector);

}  // namespace moray::scheduling
