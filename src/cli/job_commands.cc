// `moray job submit|status|logs|stop|list|delete`: Ray's job CLI over the dashboard's Jobs REST
// API (src/jobs/job_http.h). The dashboard is found from --address, else $RAY_API_SERVER_ADDRESS,
// else $RAY_ADDRESS, else the cluster started last on this machine: an `http://host:port` address
// is the dashboard itself; a GCS address (host:port, `auto`) is asked for the dashboard's address
// (KV "cluster"/"dashboard_address"). The output's lines follow `ray job`'s.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/format_table.h"
#include "cli/format_util.h"
#include "cli/options.h"
#include "common/session.h"
#include "dashboard/dashboard_main.h"
#include "gcs/gcs_client.h"
#include "jobs/job_client.h"
#include "jobs/job_record.h"
#include "jobs/job_runtime_env.h"
#include "jobs/job_upload.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"
#include "runtime_env/package_store.h"

namespace moray::cli {
namespace {

[[noreturn]] void Fail(const absl::Status& status) {
  std::cerr << "Error: " << status.message() << std::endl;
  throw CLI::RuntimeError(1);
}

template <typename T>
T OrFail(absl::StatusOr<T> value) {
  if (!value.ok()) Fail(value.status());
  return *std::move(value);
}

std::string FirstSet(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return "";
}

// Where the cluster is, and what this command needs to talk to it.
struct Cluster {
  std::unique_ptr<gcs::GcsClient> gcs;  // null when given the dashboard's URL directly
  std::unique_ptr<jobs::JobClient> jobs;
};

Cluster ConnectOrFail(const std::string& flag) {
  std::string given = flag;
  if (given.empty()) given = FirstSet({"RAY_API_SERVER_ADDRESS", "RAY_ADDRESS"});
  if (given.empty()) given = "auto";
  rpc::AuthConfig auth = OrFail(rpc::LoadAuthConfig());
  rpc::SetProcessAuth(auth);
  rpc::SetProcessRole(proto::ROLE_CLI);
  Cluster cluster;
  std::string url;
  if (absl::StartsWith(given, "https://")) {
    Fail(absl::InvalidArgumentError(
        absl::StrCat("'", given, "': the Moray dashboard speaks plain HTTP (http://host:port)")));
  }
  if (absl::StartsWith(given, "http://")) {
    url = given;
    while (absl::EndsWith(url, "/")) url.pop_back();
  } else {
    std::string address = OrFail(ResolveGcsAddress(given));
    cluster.gcs = OrFail(gcs::GcsClient::Connect(address, absl::Seconds(5)));
    auto recorded =
        OrFail(cluster.gcs->KvGet(dashboard::kClusterNamespace, dashboard::kDashboardAddressKey));
    if (!recorded) {
      Fail(absl::NotFoundError(absl::StrCat(
          "the cluster at ", address,
          " has no dashboard, so it takes no jobs: `moray start --head` starts one unless "
          "--include-dashboard=false (ray::Init's embedded cluster has none)")));
    }
    url = absl::StrCat("http://", *recorded);
  }
  cluster.jobs = std::make_unique<jobs::JobClient>(url, auth.token);
  return cluster;
}

void AddAddressOption(CLI::App* command, std::string* address) {
  command->add_option("--address", *address,
                      "The cluster: its GCS HOST:PORT or the dashboard's http://HOST:PORT "
                      "(default: $RAY_API_SERVER_ADDRESS, $RAY_ADDRESS, else the cluster started "
                      "last on this machine)");
}

// Ray's framed headline: the text between two dashed lines as long as it.
void Boxed(const std::string& text) {
  const std::string dashes(text.size(), '-');
  std::cout << dashes << "\n" << text << "\n" << dashes << "\n";
}

std::string StatusOf(const nlohmann::json& job) { return job.value("status", ""); }
std::string MessageOf(const nlohmann::json& job) {
  return job.contains("message") && job["message"].is_string() ? job["message"].get<std::string>()
                                                               : "";
}

// The closing lines of `submit` and `stop`; exit code 0 for SUCCEEDED (and STOPPED when that
// was asked for), else 1.
int PrintOutcome(const std::string& id, const nlohmann::json& job, bool stop_asked) {
  const std::string status = StatusOf(job);
  std::cout << "\n";
  if (status == "SUCCEEDED") {
    Boxed(absl::StrCat("Job '", id, "' succeeded"));
    return 0;
  }
  if (status == "STOPPED") {
    Boxed(absl::StrCat("Job '", id, "' was stopped"));
    return stop_asked ? 0 : 1;
  }
  Boxed(absl::StrCat("Job '", id, "' failed"));
  std::cout << "\nStatus message: " << MessageOf(job) << "\n";
  return 1;
}

// Waits for the job to reach a terminal state (the status, asked every 100 ms).
nlohmann::json AwaitTerminal(jobs::JobClient& client, const std::string& id) {
  while (true) {
    nlohmann::json job = OrFail(client.Get(id));
    auto status = jobs::ParseJobStatus(StatusOf(job));
    if (status && jobs::IsTerminal(*status)) return job;
    usleep(100 * 1000);
  }
}

struct SubmitOptions {
  std::string address;
  std::string working_dir;
  nlohmann::json runtime_env = nlohmann::json::object();
  std::string submission_id;
  std::string metadata_json;
  double entrypoint_num_cpus = 0;
  bool no_wait = false;
  std::vector<std::string> entrypoint;
};

void RunSubmit(const SubmitOptions& o) {
  nlohmann::json env = o.runtime_env;
  if (!o.working_dir.empty()) env["working_dir"] = o.working_dir;  // the flag wins
  if (auto checked = jobs::CheckJobRuntimeEnv(env, /*require_uploaded=*/false); !checked.ok()) {
    Fail(checked);
  }
  if (!o.submission_id.empty()) {
    if (auto checked = jobs::CheckSubmissionId(o.submission_id); !checked.ok()) Fail(checked);
  }
  const bool local_dir =
      env.contains("working_dir") &&
      !absl::StartsWith(env["working_dir"].get<std::string>(), jobs::kPackageScheme);
  if (local_dir) {
    std::error_code ec;
    const std::string dir = env["working_dir"].get<std::string>();
    if (!std::filesystem::exists(dir, ec)) {
      Fail(absl::NotFoundError(absl::StrCat("working_dir ", dir, " does not exist")));
    }
  }
  Cluster cluster = ConnectOrFail(o.address);
  const std::string pending_owner = runtime_env::NewPendingRefOwner();
  if (local_dir) {
    env["working_dir"] =
        OrFail(jobs::UploadWorkingDir(cluster.gcs.get(), *cluster.jobs, env, pending_owner));
    env.erase("excludes");  // applied while packing
  }
  nlohmann::json request = {{"entrypoint", absl::StrJoin(o.entrypoint, " ")}, {"runtime_env", env}};
  if (!o.submission_id.empty()) request["submission_id"] = o.submission_id;
  if (o.entrypoint_num_cpus > 0) request["entrypoint_num_cpus"] = o.entrypoint_num_cpus;
  if (!o.metadata_json.empty()) request["metadata"] = nlohmann::json::parse(o.metadata_json);
  absl::StatusOr<std::string> submitted = cluster.jobs->Submit(request);
  if (local_dir) {
    // Accepted, the submission holds its own ref; refused, nothing needs the package.
    absl::Status dropped = jobs::DropPendingRef(
        cluster.gcs.get(), env["working_dir"].get<std::string>(), pending_owner);
    if (!dropped.ok()) std::cerr << "warning: " << dropped.message() << "\n";
  }
  std::string id = OrFail(std::move(submitted));
  std::cout << "Job submission server address: " << cluster.jobs->base_url() << "\n\n";
  Boxed(absl::StrCat("Job '", id, "' submitted successfully"));
  std::cout << "\nNext steps\n"
            << "  Query the logs of the job:\n    moray job logs " << id << "\n"
            << "  Query the status of the job:\n    moray job status " << id << "\n"
            << "  Request the job to be stopped:\n    moray job stop " << id << "\n";
  if (o.no_wait) return;
  std::cout << "\nTailing logs until the job exits (disable with --no-wait):\n" << std::flush;
  absl::Status tailed =
      cluster.jobs->Tail(id, [](std::string_view text) { std::cout << text << std::flush; });
  if (!tailed.ok()) Fail(tailed);
  int code = PrintOutcome(id, AwaitTerminal(*cluster.jobs, id), /*stop_asked=*/false);
  std::cout << std::flush;
  if (code != 0) throw CLI::RuntimeError(code);
}

void RunStatus(const std::string& address, const std::string& id) {
  Cluster cluster = ConnectOrFail(address);
  nlohmann::json job = OrFail(cluster.jobs->Get(id));
  std::cout << "Status for job '" << id << "': " << StatusOf(job) << "\n";
  std::string message = MessageOf(job);
  if (!message.empty()) std::cout << "Status message: " << message << "\n";
}

void RunLogs(const std::string& address, const std::string& id, bool follow) {
  Cluster cluster = ConnectOrFail(address);
  if (!follow) {
    std::cout << OrFail(cluster.jobs->Logs(id)) << std::flush;
    return;
  }
  absl::Status tailed =
      cluster.jobs->Tail(id, [](std::string_view text) { std::cout << text << std::flush; });
  if (!tailed.ok()) Fail(tailed);
}

void RunStop(const std::string& address, const std::string& id, bool no_wait) {
  Cluster cluster = ConnectOrFail(address);
  std::cout << "Attempting to stop job '" << id << "'\n";
  bool stopped = OrFail(cluster.jobs->Stop(id));
  if (!stopped) {
    nlohmann::json job = OrFail(cluster.jobs->Get(id));
    std::cout << "Job '" << id << "' has already ended (" << StatusOf(job)
              << "); nothing to stop\n";
    return;
  }
  if (no_wait) {
    std::cout << "Stop requested for job '" << id << "'\n";
    return;
  }
  std::cout << "Waiting for job '" << id << "' to exit (disable with --no-wait):\n" << std::flush;
  int code = PrintOutcome(id, AwaitTerminal(*cluster.jobs, id), /*stop_asked=*/true);
  if (code != 0) throw CLI::RuntimeError(code);
}

void RunList(const std::string& address, const std::string& format_text) {
  OutputFormat format = OrFail(ParseOutputFormat(format_text));
  Cluster cluster = ConnectOrFail(address);
  nlohmann::json list = OrFail(cluster.jobs->List());
  std::vector<Row> rows;
  for (const auto& job : list) {
    Row row;
    for (const char* key : {"submission_id", "status", "entrypoint", "start_time", "end_time",
                            "driver_exit_code", "message"}) {
      row[key] = job.contains(key) ? Row(job[key]) : Row();
    }
    auto ms_text = [](const Row& value) {
      return value.is_number() ? Row(FormatDateTime(absl::FromUnixMillis(value.get<int64_t>())))
                               : Row();
    };
    row["start_time"] = ms_text(row["start_time"]);
    row["end_time"] = ms_text(row["end_time"]);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a["start_time"].dump() < b["start_time"].dump();
  });
  if (format == OutputFormat::kJson) {
    std::cout << list.dump(2) << "\n";
    return;
  }
  ListResult result{.resource = "jobs", .rows = rows, .total = static_cast<int64_t>(rows.size())};
  std::cout << FormatList(result,
                          {"submission_id", "status", "entrypoint", "start_time", "end_time",
                           "driver_exit_code", "message"},
                          format, absl::Now());
}

void RunDelete(const std::string& address, const std::string& id) {
  Cluster cluster = ConnectOrFail(address);
  OrFail(cluster.jobs->Delete(id));
  std::cout << "Job '" << id << "' deleted successfully\n";
}

}  // namespace

void AddJobCommands(CLI::App& app) {
  auto* job = app.add_subcommand("job", "Submit and manage jobs (Ray's job CLI)");
  job->require_subcommand(1);

  auto submit_options = std::make_shared<SubmitOptions>();
  auto* submit = job->add_subcommand(
      "submit", "Run a command on the cluster as a job: moray job submit [options] -- COMMAND...");
  AddAddressOption(submit, &submit_options->address);
  AddTextOption(submit, "--working-dir", "Local directory uploaded as the job's working_dir", "DIR",
                &submit_options->working_dir);
  AddOption(submit, "--runtime-env-json", "The job's runtime env as a JSON object", "JSON",
            [submit_options](std::string_view text) -> absl::Status {
              auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
              if (json.is_discarded() || !json.is_object()) {
                return absl::InvalidArgumentError(
                    absl::StrCat("--runtime-env-json must be a JSON object such as "
                                 "'{\"env_vars\": {\"A\": \"1\"}}', not ",
                                 QuoteValue(text)));
              }
              submit_options->runtime_env = std::move(json);
              return absl::OkStatus();
            });
  AddOption(submit, "--metadata-json", "Metadata as a JSON object of strings", "JSON",
            [submit_options](std::string_view text) -> absl::Status {
              auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
              if (json.is_discarded() || !json.is_object()) {
                return absl::InvalidArgumentError(
                    absl::StrCat("--metadata-json must be a JSON object, not ", QuoteValue(text)));
              }
              submit_options->metadata_json = std::string(text);
              return absl::OkStatus();
            });
  AddTextOption(submit, "--submission-id", "The job's id (default: raysubmit_ + 16 characters)",
                "ID", &submit_options->submission_id);
  AddOption(submit, "--entrypoint-num-cpus",
            "CPUs the entrypoint needs (checked against the cluster; not reserved)", "N",
            [submit_options](std::string_view text) -> absl::Status {
              auto value = ParseNumber("--entrypoint-num-cpus", text, {.min = 0});
              if (!value.ok()) return value.status();
              submit_options->entrypoint_num_cpus = *value;
              return absl::OkStatus();
            });
  submit->add_flag("--no-wait", submit_options->no_wait, "Return once the job is submitted");
  submit->add_option("entrypoint", submit_options->entrypoint, "The command (after --)")
      ->required();
  submit->callback([submit_options] { RunSubmit(*submit_options); });

  struct IdOptions {
    std::string address;
    std::string id;
    bool flag = false;
    std::string format = "default";
  };
  auto status_options = std::make_shared<IdOptions>();
  auto* status = job->add_subcommand("status", "Show a job's status");
  AddAddressOption(status, &status_options->address);
  status->add_option("job-id", status_options->id, "Submission id")->required();
  status->callback([status_options] { RunStatus(status_options->address, status_options->id); });

  auto logs_options = std::make_shared<IdOptions>();
  auto* logs = job->add_subcommand("logs", "Print a job's output");
  AddAddressOption(logs, &logs_options->address);
  logs->add_option("job-id", logs_options->id, "Submission id")->required();
  logs->add_flag("-f,--follow", logs_options->flag, "Keep printing new output until the job ends");
  logs->callback(
      [logs_options] { RunLogs(logs_options->address, logs_options->id, logs_options->flag); });

  auto stop_options = std::make_shared<IdOptions>();
  auto* stop = job->add_subcommand("stop", "Stop a job (SIGTERM, then SIGKILL after 3 s)");
  AddAddressOption(stop, &stop_options->address);
  stop->add_option("job-id", stop_options->id, "Submission id")->required();
  stop->add_flag("--no-wait", stop_options->flag, "Return without waiting for the job to end");
  stop->callback(
      [stop_options] { RunStop(stop_options->address, stop_options->id, stop_options->flag); });

  auto list_options = std::make_shared<IdOptions>();
  auto* list = job->add_subcommand("list", "List the cluster's jobs");
  AddAddressOption(list, &list_options->address);
  list->add_option("--format", list_options->format, "default, table or json");
  list->callback([list_options] { RunList(list_options->address, list_options->format); });

  auto delete_options = std::make_shared<IdOptions>();
  auto* remove = job->add_subcommand("delete", "Delete an ended job's record and log");
  AddAddressOption(remove, &delete_options->address);
  remove->add_option("job-id", delete_options->id, "Submission id")->required();
  remove->callback([delete_options] { RunDelete(delete_options->address, delete_options->id); });
}

}  // namespace moray::cli
