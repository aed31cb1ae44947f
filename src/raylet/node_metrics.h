// The node's own gauges for its /metrics endpoint, computed at each scrape from the resource
// report the raylet sends the GCS and the object store's statistics (Ray's names, moray_ prefix):
//   moray_resources{Name,State}           State USED or AVAILABLE, per resource of the node
//   moray_resources_total{Name}           the node's total of each resource (Moray's own)
//   moray_object_store_memory{Location,ObjectState}  bytes: MMAP_SHM/SEALED, SPILLED/SEALED
//   moray_object_store_available_memory, moray_object_store_used_memory,
//   moray_object_store_capacity_memory (Moray's own), moray_object_store_num_local_objects
//   moray_spill_manager_objects_bytes{Type="Spilled"}, moray_spill_manager_request_total{Type}
//   moray_workers{WorkerType}             live workers and drivers (Moray's own)
#pragma once

#include <vector>

#include "gcs.pb.h"
#include "metrics/exposition.h"
#include "store.pb.h"

namespace moray::raylet {

std::vector<metrics::MetricFamilyData> NodeMetricFamilies(const proto::NodeResourceReport& report,
                                                          const proto::StoreStats& store);

}  // namespace moray::raylet
