// moray.util.metrics's half in C++: user metrics recorded into the process's UserMetrics
// (src/core_worker/user_metrics.h), which the core worker reports to its raylet, as
// ray::Counter & co. do in C++.
//
//   h = _moray_core.metric_define("requests", "Requests.", "", "COUNTER", [], ["route"])
//   _moray_core.metric_record(h, 1.0, {"route": "/"})

#include <pybind11/stl.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bindings.h"
#include "core_worker/user_metrics.h"

namespace moray::python {

namespace py = pybind11;

void BindMetrics(py::module_& m) {
  m.def(
      "metric_define",
      [](const std::string& name, const std::string& description, const std::string& unit,
         const std::string& kind, const std::vector<double>& boundaries,
         const std::vector<std::string>& tag_keys) {
        proto::UserMetric::Kind k;
        if (!proto::UserMetric::Kind_Parse(kind, &k)) {
          throw py::value_error("unknown metric kind " + kind);
        }
        auto defined = core::UserMetrics::Process().Define({.name = name,
                                                            .description = description,
                                                            .unit = unit,
                                                            .kind = k,
                                                            .boundaries = boundaries,
                                                            .tag_keys = tag_keys});
        if (!defined.ok()) throw py::value_error(std::string(defined.status().message()));
        return reinterpret_cast<uintptr_t>(*defined);
      },
      py::arg("name"), py::arg("description"), py::arg("unit"), py::arg("kind"),
      py::arg("boundaries"), py::arg("tag_keys"));
  m.def(
      "metric_record",
      [](uintptr_t handle, double value, const std::map<std::string, std::string>& tags) {
        reinterpret_cast<core::UserMetric*>(handle)->Record(value, tags);
      },
      py::arg("handle"), py::arg("value"), py::arg("tags"));
}

}  // namespace moray::python
