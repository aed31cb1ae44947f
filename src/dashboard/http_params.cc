#include "dashboard/http_params.h"

#include <charconv>
#include <string>

#include "absl/strings/str_cat.h"

namespace moray::dashboard {

void Answer(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

absl::StatusOr<int64_t> WholeParam(const httplib::Request& req, const char* name, int64_t fallback,
                                   int64_t min, int64_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return absl::InvalidArgumentError(absl::StrCat("'", name, "' must be a whole number from ", min,
                                                   " to ", max, ", not '", text, "'"));
  }
  return value;
}

}  // namespace moray::dashboard
