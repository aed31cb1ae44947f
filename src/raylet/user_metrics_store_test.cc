// The raylet's store of its workers' user metrics, and the node's own gauges.
#include "raylet/user_metrics_store.h"

#include "gtest/gtest.h"
#include "raylet/node_metrics.h"

namespace moray::raylet {
namespace {

proto::ReportMetricsRequest Report(double value) {
  proto::ReportMetricsRequest request;
  proto::UserMetric* counter = request.add_metrics();
  counter->set_name("hits");
  counter->set_description("Hits.");
  counter->set_kind(proto::UserMetric::COUNTER);
  counter->add_tag_keys("route");
  proto::UserMetricSeries* s = counter->add_series();
  (*s->mutable_tags())["route"] = "/";
  s->set_value(value);
  proto::UserMetric* histogram = request.add_metrics();
  histogram->set_name("lat");
  histogram->set_kind(proto::UserMetric::HISTOGRAM);
  histogram->add_boundaries(1);
  proto::UserMetricSeries* h = histogram->add_series();
  h->add_bucket_counts(1);
  h->add_bucket_counts(2);
  h->set_sum(9);
  h->set_count(3);
  return request;
}

std::string Text(UserMetricsStore& store, absl::Time now) {
  std::string text;
  for (const auto& family : store.Collect(now)) metrics::WriteFamily(family, &text);
  return text;
}

TEST(UserMetricsStoreTest, ExportsReportsPerWorkerAndDropsGoneWorkersAfterRetention) {
  UserMetricsStore store(absl::Seconds(60));
  const WorkerId a = WorkerId::FromBinary(std::string(16, '\x0a'));
  const WorkerId b = WorkerId::FromBinary(std::string(16, '\x0b'));
  store.Report(a, Report(1));
  store.Report(a, Report(4));  // replaces
  store.Report(b, Report(2));
  const absl::Time now = absl::Now();
  std::string text = Text(store, now);
  EXPECT_NE(text.find("# TYPE moray_hits_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("moray_hits_total{route=\"/\",WorkerId=\"" + a.Hex() + "\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("moray_hits_total{route=\"/\",WorkerId=\"" + b.Hex() + "\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("moray_lat_bucket{WorkerId=\"" + a.Hex() + "\",le=\"+Inf\"} 3\n"),
            std::string::npos)
      << text;
  store.WorkerGone(a, now);
  text = Text(store, now + absl::Seconds(59));
  EXPECT_NE(text.find(a.Hex()), std::string::npos);  // still within the retention
  text = Text(store, now + absl::Seconds(61));
  EXPECT_EQ(text.find(a.Hex()), std::string::npos) << text;
  EXPECT_NE(text.find(b.Hex()), std::string::npos);
}

TEST(NodeMetricsTest, ResourcesStoreAndWorkers) {
  proto::NodeResourceReport report;
  (*report.mutable_resources_total())["CPU"] = 4;
  (*report.mutable_resources_available())["CPU"] = 1.5;
  report.add_workers()->set_is_alive(true);
  proto::StoreStats stats;
  stats.set_capacity(1000);
  stats.set_used(300);
  stats.set_spilled_bytes(50);
  std::string text;
  for (const auto& family : NodeMetricFamilies(report, stats)) metrics::WriteFamily(family, &text);
  EXPECT_NE(text.find("moray_resources{Name=\"CPU\",State=\"AVAILABLE\"} 1.5\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("moray_resources{Name=\"CPU\",State=\"USED\"} 2.5\n"), std::string::npos);
  EXPECT_NE(text.find("moray_resources_total{Name=\"CPU\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("moray_object_store_memory{Location=\"MMAP_SHM\",ObjectState=\"SEALED\"} "
                      "300\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("moray_object_store_memory{Location=\"SPILLED\",ObjectState=\"SEALED\"} 50\n"),
      std::string::npos);
  EXPECT_NE(text.find("moray_object_store_available_memory 700\n"), std::string::npos);
  EXPECT_NE(text.find("moray_workers{WorkerType=\"WORKER\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace moray::raylet
