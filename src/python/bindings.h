// The parts of _moray_core defined outside core_module.cc: each file binds one area into the
// module (called once from PYBIND11_MODULE). Shared helpers for bindings live here too.
#pragma once

#include <pybind11/pybind11.h>

#include "core_worker/core_worker.h"
#include "ray/api/ray_runtime.h"

namespace moray::python {

// The process's core worker and runtime; std::runtime_error (RuntimeError in Python) when moray
// is not initialized.
core::CoreWorker& Worker();
ray::internal::RayRuntime& Runtime();

// moray.util.state's queries (state_bindings.cc): state_list, state_columns, state_summary.
void BindState(pybind11::module_& m);

}  // namespace moray::python
