// The parts of _moray_core defined outside core_module.cc: each file binds one area into the
// module (called once from PYBIND11_MODULE). Shared helpers for bindings live here too.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "core_worker/core_worker.h"
#include "ray/api/ray_runtime.h"

namespace moray::python {

// The process's core worker and runtime; std::runtime_error (RuntimeError in Python) when moray
// is not initialized.
core::CoreWorker& Worker();
ray::internal::RayRuntime& Runtime();

// moray.util.state's queries (state_bindings.cc): state_list, state_columns, state_summary.
void BindState(pybind11::module_& m);
// moray.util.metrics (metric_bindings.cc): metric_define, metric_record.
void BindMetrics(pybind11::module_& m);

// Building and submitting specs (core_module.cc). `args` = [(is_ref, bytes)]; `options` is the
// dict python/moray/_private/options.py makes (resources, strategy, runtime_env, name, ...).
void FillArgs(const pybind11::list& args, proto::TaskSpec* spec);
void FillCommonOptions(const pybind11::dict& options, proto::TaskSpec* spec);
// Submit `spec` (its language, function and arguments filled in) as a task, an actor creation or
// an actor call; the return ids / the actor id.
pybind11::list SubmitNormalTask(proto::TaskSpec spec, const pybind11::dict& options);
pybind11::bytes CreateActorWithSpec(proto::TaskSpec spec, const std::string& class_name,
                                    const pybind11::dict& options);
pybind11::list SubmitActorTaskWithSpec(const pybind11::bytes& actor_id, proto::TaskSpec spec,
                                       const pybind11::dict& options);

// Calls of C++ code from Python (cross_language_bindings.cc).
void BindCrossLanguage(pybind11::module_& m);

}  // namespace moray::python
