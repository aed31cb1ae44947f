#include "core_worker/user_metrics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "metrics/exposition.h"

namespace moray::core {

void UserMetric::Record(double value, const std::map<std::string, std::string>& tags) {
  if (spec_.kind == proto::UserMetric::COUNTER && value < 0) return;
  std::vector<std::string> key(spec_.tag_keys.size());
  for (size_t i = 0; i < spec_.tag_keys.size(); ++i) {
    auto it = tags.find(spec_.tag_keys[i]);
    if (it != tags.end()) key[i] = it->second;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Series& s = series_[std::move(key)];
    switch (spec_.kind) {
      case proto::UserMetric::GAUGE:
        s.value = value;
        break;
      case proto::UserMetric::COUNTER:
      case proto::UserMetric::SUM:
        s.value += value;
        break;
      case proto::UserMetric::HISTOGRAM: {
        if (s.buckets.empty()) s.buckets.resize(spec_.boundaries.size() + 1);
        const size_t b = std::lower_bound(spec_.boundaries.begin(), spec_.boundaries.end(), value) -
                         spec_.boundaries.begin();
        ++s.buckets[b];
        s.sum += value;
        ++s.count;
        break;
      }
      default:
        break;
    }
  }
  changed_->store(true, std::memory_order_relaxed);
}

void UserMetric::AppendTo(proto::ReportMetricsRequest* out) const {
  proto::UserMetric* m = out->add_metrics();
  m->set_name(spec_.name);
  m->set_description(spec_.description);
  m->set_unit(spec_.unit);
  m->set_kind(spec_.kind);
  for (double b : spec_.boundaries) m->add_boundaries(b);
  for (const auto& key : spec_.tag_keys) m->add_tag_keys(key);
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [values, s] : series_) {
    proto::UserMetricSeries* series = m->add_series();
    for (size_t i = 0; i < values.size(); ++i)
      (*series->mutable_tags())[spec_.tag_keys[i]] = values[i];
    series->set_value(s.value);
    for (uint64_t b : s.buckets) series->add_bucket_counts(b);
    series->set_sum(s.sum);
    series->set_count(s.count);
  }
}

UserMetrics& UserMetrics::Process() {
  static auto* metrics = new UserMetrics();
  return *metrics;
}

absl::StatusOr<UserMetric*> UserMetrics::Define(UserMetricSpec spec) {
  if (auto valid = metrics::ValidateMetricName(spec.name); !valid.ok()) return valid;
  for (const auto& key : spec.tag_keys) {
    if (auto valid = metrics::ValidateLabelName(key); !valid.ok()) return valid;
    if (key == "WorkerId") {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", spec.name, ": the tag key WorkerId is Moray's own"));
    }
  }
  if (!std::is_sorted(spec.boundaries.begin(), spec.boundaries.end()) ||
      std::adjacent_find(spec.boundaries.begin(), spec.boundaries.end()) != spec.boundaries.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram ", spec.name, ": boundaries must be strictly ascending"));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = metrics_[spec.name];
  if (slot) {
    if (slot->spec().kind != spec.kind || slot->spec().tag_keys != spec.tag_keys ||
        slot->spec().boundaries != spec.boundaries) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", spec.name,
                       " is already defined in this process with another kind, tag "
                       "keys or boundaries"));
    }
    return slot.get();
  }
  slot = std::make_unique<UserMetric>(std::move(spec), &changed_);
  return slot.get();
}

proto::ReportMetricsRequest UserMetrics::Snapshot() const {
  proto::ReportMetricsRequest out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, metric] : metrics_) metric->AppendTo(&out);
  return out;
}

}  // namespace moray::core
