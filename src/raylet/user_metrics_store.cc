#include "raylet/user_metrics_store.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace moray::raylet {

void UserMetricsStore::Report(const WorkerId& worker_id, proto::ReportMetricsRequest request) {
  absl::MutexLock lock(&mu_);
  Entry& entry = workers_[worker_id];
  entry.metrics = std::move(request);
  entry.gone = absl::InfiniteFuture();
}

void UserMetricsStore::WorkerGone(const WorkerId& worker_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = workers_.find(worker_id);
  if (it != workers_.end()) it->second.gone = now;
}

std::vector<metrics::MetricFamilyData> UserMetricsStore::Collect(absl::Time now) {
  std::map<std::string, metrics::MetricFamilyData> families;
  absl::MutexLock lock(&mu_);
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (now - it->second.gone > retention_) {
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [worker_id, entry] : workers_) {
    const std::string worker_hex = worker_id.Hex();
    for (const proto::UserMetric& m : entry.metrics.metrics()) {
      const bool cumulative =
          m.kind() == proto::UserMetric::COUNTER || m.kind() == proto::UserMetric::SUM;
      const std::string name = absl::StrCat("moray_", m.name(), cumulative ? "_total" : "");
      if (!metrics::ValidateMetricName(name).ok()) continue;
      std::vector<std::string> label_names(m.tag_keys().begin(), m.tag_keys().end());
      bool labels_ok = true;
      for (const auto& label : label_names)
        labels_ok = labels_ok && metrics::ValidateLabelName(label).ok();
      if (!labels_ok) continue;
      label_names.push_back("WorkerId");
      const metrics::MetricType type = m.kind() == proto::UserMetric::HISTOGRAM
                                           ? metrics::MetricType::kHistogram
                                       : cumulative ? metrics::MetricType::kCounter
                                                    : metrics::MetricType::kGauge;
      auto [slot, added] = families.try_emplace(name);
      metrics::MetricFamilyData& family = slot->second;
      if (added) {
        family.info = {.name = name,
                       .help = m.unit().empty()
                                   ? m.description()
                                   : absl::StrCat(m.description(), " [", m.unit(), "]"),
                       .type = type,
                       .label_names = label_names};
      } else if (family.info.type != type || family.info.label_names != label_names) {
        continue;  // a clash: the first definition wins
      }
      const std::vector<double> bounds(m.boundaries().begin(), m.boundaries().end());
      for (const proto::UserMetricSeries& s : m.series()) {
        metrics::Sample sample;
        for (const auto& key : m.tag_keys()) {
          auto tag = s.tags().find(key);
          sample.label_values.push_back(tag == s.tags().end() ? "" : tag->second);
        }
        sample.label_values.push_back(worker_hex);
        sample.value = s.value();
        if (type == metrics::MetricType::kHistogram) {
          if (static_cast<size_t>(s.bucket_counts_size()) != bounds.size() + 1) continue;
          sample.bounds = bounds;
          sample.buckets.assign(s.bucket_counts().begin(), s.bucket_counts().end());
          sample.sum = s.sum();
          sample.count = s.count();
        }
        family.samples.push_back(std::move(sample));
      }
    }
  }
  std::vector<metrics::MetricFamilyData> out;
  out.reserve(families.size());
  for (auto& [name, family] : families) out.push_back(std::move(family));
  return out;
}

}  // namespace moray::raylet
