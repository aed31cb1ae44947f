// What the dashboard's JSON endpoints share: a JSON answer, and whole-number query parameters
// checked against a range (a bad one is InvalidArgument naming the parameter, the range and the
// text, which the endpoint answers as 400).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace moray::dashboard {

void Answer(httplib::Response& res, int status, const nlohmann::ordered_json& body);

// `fallback` when the parameter is absent.
absl::StatusOr<int64_t> WholeParam(const httplib::Request& req, const char* name, int64_t fallback,
                                   int64_t min, int64_t max);

}  // namespace moray::dashboard
