#include "raylet/node_metrics.h"

#include <map>
#include <string>

#include "scheduling/group_resources.h"

namespace moray::raylet {
namespace {

metrics::MetricFamilyData Gauge(std::string name, std::string help,
                                std::vector<std::string> labels = {}) {
  return {.info = {.name = std::move(name),
                   .help = std::move(help),
                   .type = metrics::MetricType::kGauge,
                   .label_names = std::move(labels)}};
}

void Add(metrics::MetricFamilyData* family, std::vector<std::string> labels, double value) {
  family->samples.push_back({.label_values = std::move(labels), .value = value});
}

}  // namespace

std::vector<metrics::MetricFamilyData> NodeMetricFamilies(const proto::NodeResourceReport& report,
                                                          const proto::StoreStats& store) {
  std::vector<metrics::MetricFamilyData> out;
  auto resources =
      Gauge("moray_resources", "Logical resources of this node by state (USED or AVAILABLE).",
            {"Name", "State"});
  auto totals =
      Gauge("moray_resources_total", "Logical resources of this node in total.", {"Name"});
  std::map<std::string, double> total;  // in name order
  for (const auto& [name, amount] : report.resources_total()) total[name] = amount;
  for (const auto& [name, amount] : total) {
    if (scheduling::IsGroupScoped(name)) continue;
    auto available = report.resources_available().find(name);
    const double free = available == report.resources_available().end() ? 0 : available->second;
    Add(&resources, {name, "AVAILABLE"}, free);
    Add(&resources, {name, "USED"}, amount - free);
    Add(&totals, {name}, amount);
  }
  out.push_back(std::move(resources));
  out.push_back(std::move(totals));

  auto memory = Gauge("moray_object_store_memory",
                      "Bytes of objects in this node's object store by location and state.",
                      {"Location", "ObjectState"});
  Add(&memory, {"MMAP_SHM", "SEALED"}, static_cast<double>(store.used()));
  Add(&memory, {"SPILLED", "SEALED"}, static_cast<double>(store.spilled_bytes()));
  out.push_back(std::move(memory));
  auto available =
      Gauge("moray_object_store_available_memory", "Bytes of this node's object store not in use.");
  Add(&available, {},
      static_cast<double>(store.capacity() > store.used() ? store.capacity() - store.used() : 0));
  out.push_back(std::move(available));
  auto used = Gauge("moray_object_store_used_memory", "Bytes of this node's object store in use.");
  Add(&used, {}, static_cast<double>(store.used()));
  out.push_back(std::move(used));
  auto capacity = Gauge("moray_object_store_capacity_memory",
                        "Bytes of shared memory of this node's object store.");
  Add(&capacity, {}, static_cast<double>(store.capacity()));
  out.push_back(std::move(capacity));
  auto objects = Gauge("moray_object_store_num_local_objects",
                       "Objects in this node's object store (in memory or spilled).");
  Add(&objects, {}, static_cast<double>(store.num_objects()));
  out.push_back(std::move(objects));
  auto spilled = Gauge("moray_spill_manager_objects_bytes",
                       "Bytes of objects of this node spilled to disk.", {"Type"});
  Add(&spilled, {"Spilled"}, static_cast<double>(store.spilled_bytes()));
  out.push_back(std::move(spilled));
  metrics::MetricFamilyData requests{
      .info = {.name = "moray_spill_manager_request_total",
               .help = "Spill and restore operations of this node's object store since it started.",
               .type = metrics::MetricType::kCounter,
               .label_names = {"Type"}}};
  Add(&requests, {"Spilled"}, static_cast<double>(store.spilled_total()));
  Add(&requests, {"Restored"}, static_cast<double>(store.restored_total()));
  out.push_back(std::move(requests));

  auto workers =
      Gauge("moray_workers", "Live worker and driver processes of this node.", {"WorkerType"});
  std::map<std::string, int> by_type{{"WORKER", 0}, {"DRIVER", 0}};
  for (const proto::WorkerInfo& worker : report.workers()) {
    if (worker.is_alive())
      ++by_type[worker.worker_type().empty() ? "WORKER" : worker.worker_type()];
  }
  for (const auto& [type, count] : by_type) Add(&workers, {type}, count);
  out.push_back(std::move(workers));
  return out;
}

}  // namespace moray::raylet
