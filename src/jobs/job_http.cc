#include "jobs/job_http.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "runtime_env/package.h"
#include "runtime_env/package_store.h"

namespace moray::jobs {
namespace {

constexpr char kJson[] = "application/json";

void SetJson(httplib::Response& response, const nlohmann::ordered_json& body) {
  response.set_content(body.dump(), kJson);
}

// The body of POST /api/jobs/ as a SubmitRequest; InvalidArgument naming the bad field.
absl::StatusOr<SubmitRequest> ParseSubmit(const std::string& body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError("the request body must be a JSON object");
  }
  SubmitRequest request;
  auto text = [&](const char* key, std::string* out) -> absl::Status {
    if (!json.contains(key) || json[key].is_null()) return absl::OkStatus();
    if (!json[key].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("'", key, "' must be a string"));
    }
    *out = json[key].get<std::string>();
    return absl::OkStatus();
  };
  if (auto s = text("entrypoint", &request.entrypoint); !s.ok()) return s;
  if (auto s = text("job_id", &request.submission_id); !s.ok()) return s;  // Ray's old name
  if (auto s = text("submission_id", &request.submission_id); !s.ok()) return s;
  if (json.contains("runtime_env")) request.runtime_env = json["runtime_env"];
  if (json.contains("metadata")) request.metadata = json["metadata"];
  if (json.contains("entrypoint_num_cpus") && !json["entrypoint_num_cpus"].is_null()) {
    if (!json["entrypoint_num_cpus"].is_number()) {
      return absl::InvalidArgumentError("'entrypoint_num_cpus' must be a number");
    }
    request.entrypoint_num_cpus = json["entrypoint_num_cpus"].get<double>();
  }
  for (const char* unsupported : {"entrypoint_num_gpus", "entrypoint_memory",
                                  "entrypoint_resources", "entrypoint_label_selector"}) {
    if (json.contains(unsupported) && !json[unsupported].is_null() &&
        !(json[unsupported].is_number() && json[unsupported].get<double>() == 0) &&
        !(json[unsupported].is_object() && json[unsupported].empty())) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", unsupported, "' is not supported by Moray's job supervisor"));
    }
  }
  return request;
}

// Follows a job's log for GET .../logs/tail: each call of Next sends what was appended since the
// last, waiting (inotify, woken at least every 200 ms to notice the job's end, the client going
// away and the server stopping) while there is nothing new.
class LogTail {
 public:
  LogTail(JobSupervisor& supervisor, std::string id, const std::atomic<bool>* stopping)
      : supervisor_(supervisor), id_(std::move(id)), stopping_(stopping) {
    notify_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  }
  ~LogTail() {
    if (file_ >= 0) close(file_);
    if (notify_ >= 0) close(notify_);
  }

  bool Next(httplib::DataSink& sink) {
    char buf[64 * 1024];
    while (true) {
      // The state first, then the file: what the job wrote before it ended is still sent.
      auto job = supervisor_.Get(id_);
      const bool ended = !job.ok() || IsTerminal(job->status);
      Open();
      if (file_ >= 0) {
        ssize_t n = read(file_, buf, sizeof(buf));
        if (n > 0) return sink.write(buf, static_cast<size_t>(n));
      }
      if (ended || stopping_->load()) {
        sink.done();
        return true;
      }
      if (!sink.is_writable()) return false;
      pollfd pfd{notify_, POLLIN, 0};
      if (poll(&pfd, 1, 200) > 0) {
        char events[4096];
        while (read(notify_, events, sizeof(events)) > 0) {
        }
      }
    }
  }

 private:
  // Opens the log once it exists (a PENDING job has none yet) and watches it; until then
  // watches its directory for its creation.
  void Open() {
    if (file_ >= 0) return;
    const std::string path = supervisor_.LogPath(id_);
    file_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (notify_ < 0) return;
    if (file_ >= 0) {
      if (dir_watch_ >= 0) inotify_rm_watch(notify_, dir_watch_);
      inotify_add_watch(notify_, path.c_str(), IN_MODIFY | IN_CLOSE_WRITE);
    } else if (dir_watch_ < 0) {
      dir_watch_ = inotify_add_watch(notify_, path.substr(0, path.rfind('/')).c_str(), IN_CREATE);
    }
  }

  JobSupervisor& supervisor_;
  const std::string id_;
  const std::atomic<bool>* stopping_;
  int notify_ = -1;
  int file_ = -1;
  int dir_watch_ = -1;
};

}  // namespace

void SetError(httplib::Response& response, const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      response.status = 400;
      break;
    case absl::StatusCode::kNotFound:
      response.status = 404;
      break;
    case absl::StatusCode::kUnauthenticated:
      response.status = 401;
      break;
    case absl::StatusCode::kPermissionDenied:
      response.status = 403;
      break;
    case absl::StatusCode::kUnavailable:
      response.status = 503;
      break;
    default:
      response.status = 500;
  }
  SetJson(response, {{"error", std::string(status.message())}});
}

void AddPackageRoutes(httplib::Server& server, runtime_env::KvAccess& kv) {
  runtime_env::KvAccess* store = &kv;
  server.Get(R"(/api/packages/([0-9a-f]{64}))",
             [store](const httplib::Request& req, httplib::Response& res) {
               auto has = runtime_env::HasPackage(*store, req.matches[1].str());
               if (!has.ok()) return SetError(res, has.status());
               if (!*has) {
                 return SetError(res, absl::NotFoundError("no package " + req.matches[1].str()));
               }
               SetJson(res, {{"exists", true}});
             });
  server.Put(R"(/api/packages/([0-9a-f]{64}))", [store](const httplib::Request& req,
                                                        httplib::Response& res) {
    const std::string hash = req.matches[1];
    if (runtime_env::Sha256Hex(req.body) != hash) {
      return SetError(res, absl::InvalidArgumentError(
                               absl::StrCat("the uploaded bytes do not hash to ", hash)));
    }
    const bool gzip = req.body.size() >= 2 && req.body[0] == '\x1f' && req.body[1] == '\x8b';
    const bool zip = req.body.size() >= 2 && req.body[0] == 'P' && req.body[1] == 'K';
    if (!gzip && !zip) {
      return SetError(res, absl::InvalidArgumentError("a package is a .tar.gz or .zip archive"));
    }
    runtime_env::Package package{
        .hash = hash, .format = gzip ? "tar.gz" : "zip", .bytes = req.body};
    // The submitter's ref (no Ray job yet), as `moray job submit` records it through the GCS.
    if (auto up = runtime_env::UploadPackage(*store, package, JobId()); !up.ok()) {
      return SetError(res, up);
    }
    SetJson(res, {{"uploaded", true}});
  });
}

void AddJobRoutes(httplib::Server& server, JobSupervisor& supervisor,
                  const std::atomic<bool>* stopping) {
  JobSupervisor* jobs = &supervisor;
  server.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    SetJson(res, {{"version", "4"}, {"moray_version", "0.1.0"}});
  });
  server.Post("/api/jobs/?", [jobs](const httplib::Request& req, httplib::Response& res) {
    auto request = ParseSubmit(req.body);
    if (!request.ok()) return SetError(res, request.status());
    auto id = jobs->Submit(*std::move(request));
    if (!id.ok()) return SetError(res, id.status());
    SetJson(res, {{"submission_id", *id}, {"job_id", nullptr}});
  });
  server.Get("/api/jobs/?", [jobs](const httplib::Request&, httplib::Response& res) {
    auto list = jobs->List();
    if (!list.ok()) return SetError(res, list.status());
    nlohmann::ordered_json body = nlohmann::ordered_json::array();
    for (const JobRecord& job : *list) body.push_back(ToJson(job));
    SetJson(res, body);
  });
  server.Get(R"(/api/jobs/([^/]+)/?)", [jobs](const httplib::Request& req, httplib::Response& res) {
    auto job = jobs->Get(req.matches[1]);
    if (!job.ok()) return SetError(res, job.status());
    SetJson(res, ToJson(*job));
  });
  server.Get(R"(/api/jobs/([^/]+)/logs/?)",
             [jobs](const httplib::Request& req, httplib::Response& res) {
               auto logs = jobs->Logs(req.matches[1]);
               if (!logs.ok()) return SetError(res, logs.status());
               SetJson(res, {{"logs", *logs}});
             });
  server.Get(R"(/api/jobs/([^/]+)/logs/tail/?)", [jobs, stopping](const httplib::Request& req,
                                                                  httplib::Response& res) {
    const std::string id = req.matches[1];
    if (auto job = jobs->Get(id); !job.ok()) return SetError(res, job.status());
    auto tail = std::make_shared<LogTail>(*jobs, id, stopping);
    res.set_chunked_content_provider(
        "text/plain", [tail](size_t, httplib::DataSink& sink) { return tail->Next(sink); });
  });
  server.Post(R"(/api/jobs/([^/]+)/stop/?)",
              [jobs](const httplib::Request& req, httplib::Response& res) {
                auto stopped = jobs->Stop(req.matches[1]);
                if (!stopped.ok()) return SetError(res, stopped.status());
                SetJson(res, {{"stopped", *stopped}});
              });
  server.Delete(R"(/api/jobs/([^/]+)/?)",
                [jobs](const httplib::Request& req, httplib::Response& res) {
                  auto deleted = jobs->Delete(req.matches[1]);
                  if (!deleted.ok()) return SetError(res, deleted.status());
                  SetJson(res, {{"deleted", *deleted}});
                });
}

}  // namespace moray::jobs
