#include "cli/state_commands.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/format_status.h"
#include "cli/format_summary.h"
#include "cli/format_table.h"
#include "cli/format_yaml.h"
#include "cli/options.h"
#include "cli/state_filter.h"
#include "cli/state_resources.h"
#include "cli/timeline.h"
#include "common/session.h"
#include "gcs/gcs_client.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"

namespace moray::cli {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(5);

struct Streams {
  std::ostream* out;
  std::ostream* err;
};

[[noreturn]] void Fail(const Streams& io, const absl::Status& status) {
  *io.err << "Error: " << status.message() << std::endl;
  throw CLI::RuntimeError(1);
}

template <typename T>
T OrFail(const Streams& io, absl::StatusOr<T> value) {
  if (!value.ok()) Fail(io, value.status());
  return *std::move(value);
}

std::unique_ptr<gcs::GcsClient> ConnectOrFail(const Streams& io, const std::string& flag) {
  // Flag, then $RAY_ADDRESS, then the cluster this machine started last.
  std::string given = flag;
  const char* env = std::getenv("RAY_ADDRESS");
  if (given.empty() && (env == nullptr || *env == '\0')) given = "auto";
  std::string address = OrFail(io, ResolveGcsAddress(given));
  // The token this command presents; without one it fails saying where it looked.
  rpc::SetProcessAuth(OrFail(io, rpc::LoadAuthConfig()));
  rpc::SetProcessRole(proto::ROLE_CLI);
  return OrFail(io, gcs::GcsClient::Connect(address, kConnectTimeout));
}

const StateResource& ResourceOrFail(const Streams& io, const std::string& command,
                                    const std::string& name) {
  const StateResource* resource = FindStateResource(name);
  if (resource == nullptr) {
    Fail(io, absl::InvalidArgumentError(absl::StrCat("unknown resource '", name, "' for moray ",
                                                     command, "; choose one of: ",
                                                     StateResourceNames())));
  }
  if (!resource->list) {
    Fail(io, absl::UnimplementedError(absl::StrCat("moray ", command, " ", name,
                                                   " is not available yet in this version of "
                                                   "Moray")));
  }
  return *resource;
}

void AddAddressOption(CLI::App* command, std::string* address) {
  command->add_option("--address", *address,
                      "GCS address HOST:PORT (default: $RAY_ADDRESS, else the cluster started "
                      "last on this machine)");
}

struct ListOptions {
  std::string resource;
  std::string address;
  std::vector<std::string> filters;
  int64_t limit = 100;
  std::string format = "default";
  bool detail = false;
};

void RunList(const Streams& io, const ListOptions& o) {
  const StateResource& resource = ResourceOrFail(io, "list", o.resource);
  auto filters = OrFail(io, ParseFilters(o.filters));
  OutputFormat format = OrFail(io, ParseOutputFormat(o.format));
  auto client = ConnectOrFail(io, o.address);
  ListResult result = OrFail(io, resource.list(*client, filters, o.limit));
  *io.out << FormatList(result, resource.Columns(o.detail), format, absl::Now());
  *io.err << ListWarnings(result);
}

struct GetOptions {
  std::string resource;
  std::string id;
  std::string address;
};

void RunGet(const Streams& io, const GetOptions& o) {
  const StateResource& resource = ResourceOrFail(io, "get", o.resource);
  auto filter = OrFail(io, ParseFilter(absl::StrCat(resource.id_column, "=", o.id)));
  auto client = ConnectOrFail(io, o.address);
  ListResult result = OrFail(io, resource.list(*client, {filter}, /*limit=*/0));
  if (result.rows.empty()) {
    Fail(io, absl::NotFoundError(absl::StrCat("no ", resource.name, " with ", resource.id_column,
                                              " ", o.id)));
  }
  const auto columns = resource.Columns(/*detail=*/true);
  // A task id names every attempt of the task, and an object id the object in every process
  // that tracks it, so those are always a list; other ids name one.
  Row document = Row::array();
  for (const auto& row : result.rows) document.push_back(Project(row, columns));
  bool many = resource.name == "tasks" || resource.name == "objects";
  *io.out << ToYaml(many ? document : document.at(0));
}

struct SummaryOptions {
  std::string resource;
  std::string address;
};

void RunSummary(const Streams& io, const SummaryOptions& o) {
  if (o.resource == "objects") {
    auto client = ConnectOrFail(io, o.address);
    auto reply = OrFail(io, client->GetObjects({}, /*limit=*/0));  // totals cover every object
    std::vector<proto::ObjectRecord> objects(reply.objects().begin(), reply.objects().end());
    *io.out << FormatObjectSummary(SummarizeObjects(objects), absl::Now());
    ListResult dropped{.resource = "objects", .num_dropped = reply.num_dropped()};
    *io.err << ListWarnings(dropped);
    return;
  }
  if (o.resource == "actors") {
    auto client = ConnectOrFail(io, o.address);
    auto reply = OrFail(io, client->GetActors({}, /*limit=*/0));  // counts cover every actor
    std::vector<proto::ActorInfo> actors(reply.actors().begin(), reply.actors().end());
    *io.out << FormatActorSummary(SummarizeActors(actors), absl::Now());
    return;
  }
  if (o.resource != "tasks") {
    Fail(io, absl::InvalidArgumentError(absl::StrCat(
                 "unknown resource '", o.resource, "' for moray summary; choose one of: tasks, "
                 "actors, objects")));
  }
  auto client = ConnectOrFail(io, o.address);
  auto reply = OrFail(io, client->SummarizeTasks());  // counted at the GCS over every record
  *io.out << FormatTaskSummary(TaskSummaryFromReply(reply), absl::Now());
  ListResult dropped{.resource = "tasks",
                     .num_dropped = reply.num_dropped(),
                     .num_evicted = reply.num_evicted(),
                     .num_events_dropped = reply.num_events_dropped()};
  *io.err << ListWarnings(dropped);
}

struct TimelineOptions {
  std::string output;
  std::string address;
};

void RunTimeline(const Streams& io, const TimelineOptions& o) {
  const std::string path = o.output.empty() ? DefaultTimelineFileName(absl::Now()) : o.output;
  auto client = ConnectOrFail(io, o.address);
  proto::GetTasksReply last_page;
  nlohmann::json trace = OrFail(io, ClusterTimeline(*client, &last_page));
  std::ofstream file(path, std::ios::trunc);
  if (!file) {
    Fail(io, absl::InvalidArgumentError(absl::StrCat("cannot write the timeline to '", path,
                                                     "': ", std::strerror(errno))));
  }
  const std::string text = trace.dump();
  file << text;
  file.close();
  if (!file) {
    Fail(io, absl::InternalError(absl::StrCat("writing the timeline to '", path, "' failed")));
  }
  int64_t spans = 0;
  for (const auto& event : trace["traceEvents"]) spans += event["ph"] == "X" ? 1 : 0;
  *io.out << "Trace file written to " << path << " (" << spans << " task spans, " << text.size()
          << " bytes).\nOpen it in Perfetto (https://ui.perfetto.dev) or chrome://tracing.\n";
  ListResult dropped{.resource = "tasks",
                     .num_dropped = last_page.num_dropped(),
                     .num_evicted = last_page.num_evicted(),
                     .num_events_dropped = last_page.num_events_dropped()};
  *io.err << ListWarnings(dropped);
}

void RunStatus(const Streams& io, const std::string& address, bool verbose) {
  auto client = ConnectOrFail(io, address);
  auto status = OrFail(io, client->GetClusterStatus());
  // Groups waiting for room (PENDING, or RESCHEDULING lost bundles) are demands; the GCS picks
  // them out of every group, removed ones included.
  std::vector<proto::StateFilter> waiting;
  for (const char* state : {"CREATED", "REMOVED", "PREPARED"}) {
    waiting.push_back(OrFail(io, ParseFilter(absl::StrCat("state!=", state))));
  }
  auto reply = OrFail(io, client->GetPlacementGroups(waiting, /*limit=*/0));
  std::vector<proto::PlacementGroupInfo> groups(reply.groups().begin(), reply.groups().end());
  *io.out << FormatClusterStatus(status, absl::Now(), verbose, groups);
}

}  // namespace

void AddStateCommands(CLI::App& app) { AddStateCommands(app, std::cout, std::cerr); }

void AddStateCommands(CLI::App& app, std::ostream& out, std::ostream& err) {
  const Streams io{&out, &err};

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd = app.add_subcommand(
      "list", "List resources of the cluster: " + StateResourceNames());
  list_cmd->add_option("resource", list->resource, "What to list: " + StateResourceNames())
      ->required();
  AddAddressOption(list_cmd, &list->address);
  AddOption(
      list_cmd, "-f,--filter",
      "KEY=VALUE or KEY!=VALUE; repeat to AND several; values compare case-insensitively",
      "KEY=VALUE",
      [list](std::string_view text) -> absl::Status {
        if (auto filter = ParseFilter(text); !filter.ok()) return filter.status();
        list->filters.emplace_back(text);
        return absl::OkStatus();
      },
      /*repeatable=*/true);
  AddWholeNumberOption(list_cmd, "--limit", "Show at most this many rows (default 100)", "N",
                       {.min = 1}, &list->limit);
  AddOption(list_cmd, "--format", "default, table, json or yaml", "FORMAT",
            [list](std::string_view text) -> absl::Status {
              if (auto format = ParseOutputFormat(text); !format.ok()) return format.status();
              list->format = text;
              return absl::OkStatus();
            });
  list_cmd->add_flag("--detail", list->detail, "Show more columns");
  list_cmd->callback([io, list] { RunList(io, *list); });

  auto get = std::make_shared<GetOptions>();
  CLI::App* get_cmd = app.add_subcommand("get", "Show one resource in detail (YAML)");
  get_cmd->add_option("resource", get->resource, "Resource type, e.g. tasks")->required();
  get_cmd->add_option("id", get->id, "The resource's id (hex)")->required();
  AddAddressOption(get_cmd, &get->address);
  get_cmd->callback([io, get] { RunGet(io, *get); });

  auto summary = std::make_shared<SummaryOptions>();
  CLI::App* summary_cmd = app.add_subcommand("summary", "Summarize resources of the cluster");
  summary_cmd->add_option("resource", summary->resource, "tasks, actors or objects")->required();
  AddAddressOption(summary_cmd, &summary->address);
  summary_cmd->callback([io, summary] { RunSummary(io, *summary); });

  auto status_address = std::make_shared<std::string>();
  CLI::App* status_cmd =
      app.add_subcommand("status", "Show node health, resource usage and pending demands");
  AddAddressOption(status_cmd, status_address.get());
  auto verbose = std::make_shared<bool>(false);
  status_cmd->add_flag("-v,--verbose", *verbose, "Also show each node's usage");
  status_cmd->callback(
      [io, status_address, verbose] { RunStatus(io, *status_address, *verbose); });

  auto timeline = std::make_shared<TimelineOptions>();
  CLI::App* timeline_cmd = app.add_subcommand(
      "timeline", "Write the cluster's task spans as a Chrome trace (Perfetto, chrome://tracing)");
  timeline_cmd->add_option("--output", timeline->output,
                           "File to write (default: timeline-<date>_<time>.json here)");
  AddAddressOption(timeline_cmd, &timeline->address);
  timeline_cmd->callback([io, timeline] { RunTimeline(io, *timeline); });
}

}  // namespace moray::cli
