#include "gcs/gcs_metrics.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gcs/task_columns.h"
#include "metrics/exposition.h"
#include "nlohmann/json.hpp"

namespace moray::gcs {

std::string ClusterMetricsText(const TaskEventStore& tasks, const ActorManager& actors,
                               const metrics::Registry* registry) {
  std::string text;
  metrics::MetricFamilyData task_family{
      .info = {.name = "moray_tasks",
               .help = "Task attempts of the cluster by state and name since the GCS started "
                       "(FINISHED and FAILED only grow).",
               .type = metrics::MetricType::kGauge,
               .label_names = {"State", "Name"}}};
  for (const TaskStateCount& count : tasks.StateCounts()) {
    task_family.samples.push_back({.label_values = {TaskStateName(count.state), count.name},
                                   .value = static_cast<double>(count.count)});
  }
  metrics::WriteFamily(task_family, &text);

  metrics::MetricFamilyData actor_family{
      .info = {.name = "moray_actors",
               .help = "Actors of the cluster by state and class.",
               .type = metrics::MetricType::kGauge,
               .label_names = {"State", "Name"}}};
  std::map<std::pair<std::string, std::string>, int64_t> by_state;
  if (auto all = actors.GetActors(proto::GetActorsRequest()); all.ok()) {
    for (const proto::ActorInfo& actor : all->actors()) {
      ++by_state[{proto::ActorState_Name(actor.state()), actor.class_name()}];
    }
  }
  for (const auto& [key, count] : by_state) {
    actor_family.samples.push_back(
        {.label_values = {key.first, key.second}, .value = static_cast<double>(count)});
  }
  metrics::WriteFamily(actor_family, &text);
  if (registry != nullptr) text += registry->Exposition();
  return text;
}

void AddMetricsMethods(const GcsManagers& m, const metrics::Registry* registry,
                       rpc::Service* service) {
  service->Sync<proto::GetClusterMetricsRequest, proto::GetClusterMetricsReply>(
      proto::GET_CLUSTER_METRICS, rpc::kAnyMember,
      [m, registry](const rpc::Peer&, const proto::GetClusterMetricsRequest&,
                    proto::GetClusterMetricsReply* reply) {
        reply->set_text(ClusterMetricsText(*m.task_events, *m.actors, registry));
        return absl::OkStatus();
      });
}

std::string DiscoveryJson(const std::vector<proto::NodeInfo>& nodes) {
  nlohmann::json targets = nlohmann::json::array();
  for (const proto::NodeInfo& node : nodes) {
    if (node.state() != proto::NODE_ALIVE || node.metrics_export_port() <= 0) continue;
    targets.push_back(absl::StrCat(node.node_ip(), ":", node.metrics_export_port()));
  }
  nlohmann::json group = {{"labels", {{"job", "moray"}}}, {"targets", targets}};
  return nlohmann::json::array({group}).dump(2) + "\n";
}

absl::Status DiscoveryFile::Write(const std::vector<proto::NodeInfo>& nodes) {
  if (path_.empty()) return absl::OkStatus();
  const std::string text = DiscoveryJson(nodes);
  absl::MutexLock lock(&mu_);
  const std::string temporary = path_ + ".tmp";
  FILE* file = std::fopen(temporary.c_str(), "w");
  bool ok = file != nullptr && std::fwrite(text.data(), 1, text.size(), file) == text.size();
  if (file != nullptr) ok = (std::fclose(file) == 0) && ok;
  if (ok) ok = std::rename(temporary.c_str(), path_.c_str()) == 0;
  if (ok) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("cannot write the metrics discovery file ", path_, ": ", std::strerror(errno)));
}

}  // namespace moray::gcs
