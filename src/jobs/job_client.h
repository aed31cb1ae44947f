// The client side of the Jobs REST API (job_http.h), for `moray job`: one call per endpoint,
// with the cluster token as `Authorization: Bearer` when there is one.
//
//   JobClient client("http://127.0.0.1:8265", token);
//   absl::StatusOr<std::string> id = client.Submit({{"entrypoint", "echo hi"}});
//   client.Tail(*id, [](std::string_view text) { std::cout << text; });
//
// Errors: Unavailable when the dashboard cannot be reached (naming its address), and the
// server's answer as a status otherwise — InvalidArgument (400), Unauthenticated (401),
// PermissionDenied (403), NotFound (404), Unavailable (503), Internal — with its message.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace httplib {
class Client;
}

namespace moray::jobs {

class JobClient {
 public:
  // `base_url`: "http://host:port". `token`: empty sends no Authorization header.
  JobClient(std::string base_url, std::string token);
  ~JobClient();

  const std::string& base_url() const { return base_url_; }

  // POST /api/jobs/ with `request`; the submission id.
  absl::StatusOr<std::string> Submit(const nlohmann::json& request);
  absl::StatusOr<nlohmann::json> Get(const std::string& id);
  absl::StatusOr<nlohmann::json> List();
  absl::StatusOr<std::string> Logs(const std::string& id);
  // Streams the log to `on_output` until the job ends (the server closes the stream).
  absl::Status Tail(const std::string& id, const std::function<void(std::string_view)>& on_output);
  absl::StatusOr<bool> Stop(const std::string& id);
  absl::StatusOr<bool> Delete(const std::string& id);
  // PUT /api/packages/<hash> unless the store has it already (GET answers 200).
  absl::Status UploadPackage(const std::string& hash, const std::string& bytes);

 private:
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const std::string& path,
                                      const std::string& body);

  std::string base_url_;
  std::string token_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace moray::jobs
