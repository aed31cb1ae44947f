#include "jobs/job_client.h"

#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace moray::jobs {
namespace {

absl::Status FromHttp(int status, const std::string& body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string message = json.is_object() && json.contains("error") && json["error"].is_string()
                            ? json["error"].get<std::string>()
                            : absl::StrCat("HTTP ", status, ": ", body);
  switch (status) {
    case 400:
      return absl::InvalidArgumentError(message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    case 503:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

JobClient::JobClient(std::string base_url, std::string token)
    : base_url_(std::move(base_url)),
      token_(std::move(token)),
      http_(std::make_unique<httplib::Client>(base_url_)) {
  http_->set_connection_timeout(5, 0);
  http_->set_read_timeout(30, 0);
  if (!token_.empty()) http_->set_bearer_token_auth(token_);
}

JobClient::~JobClient() = default;

absl::StatusOr<nlohmann::json> JobClient::Call(const std::string& method, const std::string& path,
                                               const std::string& body) {
  httplib::Result result = method == "GET"      ? http_->Get(path)
                           : method == "DELETE" ? http_->Delete(path)
                                                : http_->Post(path, body, "application/json");
  if (!result) {
    return absl::UnavailableError(absl::StrCat("could not reach the Moray dashboard at ", base_url_,
                                               ": ", httplib::to_string(result.error())));
  }
  if (result->status != 200) return FromHttp(result->status, result->body);
  nlohmann::json json = nlohmann::json::parse(result->body, nullptr, false);
  if (json.is_discarded()) {
    return absl::InternalError(
        absl::StrCat("the dashboard at ", base_url_, " answered something that is not JSON"));
  }
  return json;
}

absl::StatusOr<std::string> JobClient::Submit(const nlohmann::json& request) {
  auto reply = Call("POST", "/api/jobs/", request.dump());
  if (!reply.ok()) return reply.status();
  if (!reply->contains("submission_id") || !(*reply)["submission_id"].is_string()) {
    return absl::InternalError("the dashboard's reply has no submission_id");
  }
  return (*reply)["submission_id"].get<std::string>();
}

absl::StatusOr<nlohmann::json> JobClient::Get(const std::string& id) {
  return Call("GET", "/api/jobs/" + id, "");
}

absl::StatusOr<nlohmann::json> JobClient::List() { return Call("GET", "/api/jobs/", ""); }

absl::StatusOr<std::string> JobClient::Logs(const std::string& id) {
  auto reply = Call("GET", "/api/jobs/" + id + "/logs", "");
  if (!reply.ok()) return reply.status();
  return reply->value("logs", "");
}

absl::Status JobClient::Tail(const std::string& id,
                             const std::function<void(std::string_view)>& on_output) {
  httplib::Client client(base_url_);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(24 * 3600, 0);  // a quiet job writes nothing for a long time
  if (!token_.empty()) client.set_bearer_token_auth(token_);
  int status = 0;
  std::string error_body;
  httplib::Result result = client.Get(
      "/api/jobs/" + id + "/logs/tail",
      [&](const httplib::Response& response) {
        status = response.status;
        return true;
      },
      [&](const char* data, size_t length) {
        if (status == 200) {
          on_output(std::string_view(data, length));
        } else {
          error_body.append(data, length);
        }
        return true;
      });
  if (!result) {
    return absl::UnavailableError(
        absl::StrCat("lost the Moray dashboard at ", base_url_,
                     " while following the logs: ", httplib::to_string(result.error())));
  }
  if (status != 200) return FromHttp(status, error_body.empty() ? result->body : error_body);
  return absl::OkStatus();
}

absl::StatusOr<bool> JobClient::Stop(const std::string& id) {
  auto reply = Call("POST", "/api/jobs/" + id + "/stop", "");
  if (!reply.ok()) return reply.status();
  return reply->value("stopped", false);
}

absl::StatusOr<bool> JobClient::Delete(const std::string& id) {
  auto reply = Call("DELETE", "/api/jobs/" + id, "");
  if (!reply.ok()) return reply.status();
  return reply->value("deleted", false);
}

absl::Status JobClient::UploadPackage(const std::string& hash, const std::string& bytes) {
  const std::string path = "/api/packages/" + hash;
  httplib::Result has = http_->Get(path);
  if (has && has->status == 200) return absl::OkStatus();
  httplib::Client client(base_url_);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(600, 0);
  client.set_write_timeout(600, 0);
  if (!token_.empty()) client.set_bearer_token_auth(token_);
  httplib::Result put = client.Put(path, bytes, "application/octet-stream");
  if (!put) {
    return absl::UnavailableError(
        absl::StrCat("could not upload the working_dir to the Moray "
                     "dashboard at ",
                     base_url_, ": ", httplib::to_string(put.error())));
  }
  if (put->status != 200) return FromHttp(put->status, put->body);
  return absl::OkStatus();
}

}  // namespace moray::jobs
