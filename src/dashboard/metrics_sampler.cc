#include "dashboard/metrics_sampler.h"

#include <charconv>

#include "common.pb.h"
#include "spdlog/spdlog.h"

namespace moray::dashboard {
namespace {

proto::StateFilter Equals(const std::string& key, const std::string& value) {
  proto::StateFilter filter;
  filter.set_key(key);
  filter.set_op("=");
  filter.set_value(value);
  return filter;
}

nlohmann::json SampleJson(const MetricsSample& s) {
  return {{"time_ms", s.time_ms},
          {"cpu_used", s.cpu_used},
          {"cpu_total", s.cpu_total},
          {"object_store_used", s.object_store_used},
          {"object_store_capacity", s.object_store_capacity},
          {"actors_alive", s.actors_alive},
          {"alive_nodes", s.alive_nodes},
          {"tasks_by_state", s.tasks_by_state}};
}

}  // namespace

MetricsSample TakeSample(gcs::GcsClient& gcs, absl::Time now) {
  MetricsSample sample{.time_ms = absl::ToUnixMillis(now)};
  if (auto nodes = gcs.GetAllNodes(); nodes.ok()) {
    for (const auto& node : *nodes) {
      if (node.state() != proto::NODE_ALIVE) continue;
      ++sample.alive_nodes;
      sample.object_store_capacity += node.object_store_memory();
    }
  } else {
    spdlog::warn("metrics sample: nodes: {}", nodes.status().ToString());
  }
  if (auto status = gcs.GetClusterStatus(); status.ok()) {
    for (const auto& report : status->reports()) {
      auto total = report.resources_total().find("CPU");
      auto available = report.resources_available().find("CPU");
      if (total != report.resources_total().end()) {
        sample.cpu_total += total->second;
        double free = available != report.resources_available().end() ? available->second : 0;
        sample.cpu_used += total->second - free;
      }
      sample.object_store_used += report.object_store_used();
    }
  } else {
    spdlog::warn("metrics sample: cluster status: {}", status.status().ToString());
  }
  for (int state = proto::TaskState_MIN + 1; state <= proto::TaskState_MAX; ++state) {
    if (!proto::TaskState_IsValid(state)) continue;
    sample.tasks_by_state[proto::TaskState_Name(static_cast<proto::TaskState>(state))] = 0;
  }
  // Counted at the GCS over every record it holds: one call, no record on the wire.
  if (auto summary = gcs.SummarizeTasks(); summary.ok()) {
    for (const auto& group : summary->groups()) {
      for (const auto& count : group.state_counts()) {
        sample.tasks_by_state[proto::TaskState_Name(count.state())] += count.count();
      }
    }
  } else {
    spdlog::warn("metrics sample: tasks: {}", summary.status().ToString());
  }
  if (auto actors = gcs.GetActors({Equals("state", "ALIVE")}, /*limit=*/1); actors.ok()) {
    sample.actors_alive = actors->total();
  } else {
    spdlog::warn("metrics sample: actors: {}", actors.status().ToString());
  }
  return sample;
}

MetricsSampler::MetricsSampler(gcs::GcsClient& gcs, absl::Duration interval)
    : gcs_(gcs), interval_(interval), thread_([this] { Run(); }) {}

MetricsSampler::~MetricsSampler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void MetricsSampler::Run() {
  absl::Time next = absl::Now();
  while (true) {
    MetricsSample sample = TakeSample(gcs_, absl::Now());
    absl::MutexLock lock(&mu_);
    samples_.push_back(std::move(sample));
    if (samples_.size() > kMaxSamples) samples_.pop_front();
    next += interval_;
    if (next < absl::Now()) next = absl::Now();  // a slow GCS: skip, do not catch up
    // Sleeps until the next sample is due or the sampler stops.
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), next);
    if (stopping_) return;
  }
}

nlohmann::json MetricsSampler::SamplesSince(int64_t since_ms) const {
  nlohmann::json samples = nlohmann::json::array();
  absl::MutexLock lock(&mu_);
  for (const auto& sample : samples_) {
    if (sample.time_ms > since_ms) samples.push_back(SampleJson(sample));
  }
  return {{"interval_ms", absl::ToInt64Milliseconds(interval_)}, {"samples", std::move(samples)}};
}

void AddMetricsRoutes(httplib::Server& server, const MetricsSampler& sampler) {
  server.Get("/api/v0/metrics", [&sampler](const httplib::Request& req, httplib::Response& res) {
    int64_t since = 0;
    if (req.has_param("since")) {
      const std::string text = req.get_param_value("since");
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), since);
      if (ec != std::errc() || end != text.data() + text.size()) {
        res.status = 400;
        res.set_content(nlohmann::json{{"error",
                                        "'since' must be a time in milliseconds since the epoch, "
                                        "not '" +
                                            text + "'"}}
                            .dump(),
                        "application/json");
        return;
      }
    }
    res.set_content(sampler.SamplesSince(since).dump(), "application/json");
  });
}

}  // namespace moray::dashboard
