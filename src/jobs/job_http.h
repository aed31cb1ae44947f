// Ray's Jobs REST API over a JobSupervisor, as routes of the dashboard's HTTP server:
//
//   POST   /api/jobs/                 {entrypoint, submission_id?, runtime_env?, metadata?,
//                                      entrypoint_num_cpus?} -> {"submission_id": ...}
//   GET    /api/jobs/                 [JobDetails, ...]
//   GET    /api/jobs/<id>             JobDetails (job_record.h)
//   GET    /api/jobs/<id>/logs        {"logs": "..."}
//   GET    /api/jobs/<id>/logs/tail   the log as it grows, chunked, until the job ends (Ray
//                                      uses a websocket here; this is plain HTTP)
//   POST   /api/jobs/<id>/stop        {"stopped": bool}
//   DELETE /api/jobs/<id>             {"deleted": true}; 400 unless the job ended
//   GET    /api/packages/<hash>       200 {"exists": true} if the package store has it, else 404
//   PUT    /api/packages/<hash>       the archive's bytes (tar.gz or zip) -> {"uploaded": true};
//                                      400 unless they hash to <hash> (AddPackageRoutes)
//   GET    /api/version               {"version": ..., "moray_version": ...}
//
// Errors are JSON {"error": "<sentence>"}: 400 for bad input (also a taken submission id), 404
// for an unknown job, 503 while shutting down, 500 otherwise. Authentication is the server's
// (rpc/http_auth.h), checked before any route.
//
//   httplib::Server server;
//   AddJobRoutes(server, supervisor, &stopping);
#pragma once

#include <atomic>

#include "absl/status/status.h"
#include "jobs/job_supervisor.h"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace moray::runtime_env {
class KvAccess;
}

namespace moray::jobs {

// `supervisor` and `stopping` must outlive the server's handlers. Log tails end when `stopping`
// becomes true (the server is shutting down).
void AddJobRoutes(httplib::Server& server, JobSupervisor& supervisor,
                  const std::atomic<bool>* stopping);

// The package routes above, storing into `kv` (borrowed; must outlive the server's handlers).
void AddPackageRoutes(httplib::Server& server, runtime_env::KvAccess& kv);

// `status` as an HTTP error: its code mapped as above, body {"error": message}.
void SetError(httplib::Response& response, const absl::Status& status);

}  // namespace moray::jobs
