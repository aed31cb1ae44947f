// _moray_core: the native module under the `moray` Python package (docs/python.md). Coarse calls
// over the process's one core worker — ids and whole buffers in and out; the Ray-style API is
// plain Python on top (python/moray).
//
// GIL: every call that can block (connecting, get, wait, put's copy, submissions that upload a
// runtime env, lookups in the GCS) releases it; blocking waits wake at least once a second to
// run the interpreter's signal handlers, so Ctrl-C interrupts them. Tasks reach Python through
// one callback that takes the GIL on the task's thread.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/cluster_runtime.h"
#include "api/runtime_slot.h"
#include "common/id.h"
#include "core_worker/core_worker.h"
#include "python/bindings.h"
#include "python/msgpack_convert.h"
#include "python/value_layout.h"
#include "ray/api/placement_group.h"
#include "ray/api/ray_exception.h"
#include "ray/api/ray_runtime.h"

namespace moray::python {
namespace py = pybind11;
using ray::internal::Buffer;

core::CoreWorker& Worker() {
  core::CoreWorker* worker = api::InstalledCoreWorker();
  if (!worker) throw std::runtime_error("Moray is not initialized: call moray.init() first");
  return *worker;
}

ray::internal::RayRuntime& Runtime() {
  ray::internal::RayRuntime* runtime = ray::internal::GetRuntimeOrNull();
  if (!runtime) throw std::runtime_error("Moray is not initialized: call moray.init() first");
  return *runtime;
}

namespace {

// A value handed to Python: read-only bytes that stay valid (and keep an object-store object
// pinned) while anything views them.
class Value {
 public:
  explicit Value(std::shared_ptr<Buffer> buffer) : buffer_(std::move(buffer)) {}
  const char* data() const { return buffer_ ? buffer_->Data() : ""; }
  size_t size() const { return buffer_ ? buffer_->Size() : 0; }

 private:
  std::shared_ptr<Buffer> buffer_;
};

std::vector<ObjectId> IdsOf(const std::vector<py::bytes>& ids) {
  std::vector<ObjectId> out;
  out.reserve(ids.size());
  for (const py::bytes& id : ids) {
    std::string_view bytes = id;
    if (bytes.size() != ObjectId::kSize) {
      throw py::value_error(
          absl::StrCat("an object id has ", ObjectId::kSize, " bytes, not ", bytes.size()));
    }
    out.push_back(ObjectId::FromBinary(std::string(bytes)));
  }
  return out;
}

// Runs a blocking wait in slices of at most a second with the GIL released, checking for
// signals between slices. `slice(timeout)` returns true when done.
template <typename Slice>
void WaitInSlices(double timeout_s, Slice&& slice, bool* timed_out) {
  const bool forever = timeout_s < 0;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(forever ? 0 : timeout_s));
  *timed_out = false;
  while (true) {
    absl::Duration step = absl::Seconds(1);
    if (!forever) {
      auto left = deadline - std::chrono::steady_clock::now();
      step = std::min(step, absl::FromChrono(std::max(left, decltype(left)::zero())));
    }
    bool done;
    {
      py::gil_scoped_release release;
      done = slice(step);
    }
    if (done) return;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!forever && std::chrono::steady_clock::now() >= deadline) {
      *timed_out = true;
      return;
    }
  }
}

// One object as Python sees it: a Value, or ("error", type, message, pickled exception).
py::object ObjectToPython(core::StoredObject& object) {
  if (object.is_error()) {
    return py::make_tuple("error", static_cast<int>(object.error.type()), object.error.message(),
                          py::bytes(object.error.python_exception()));
  }
  return py::cast(Value(std::move(object.data)));
}

py::list Get(const std::vector<py::bytes>& id_bytes, double timeout_s) {
  const std::vector<ObjectId> ids = IdsOf(id_bytes);
  core::CoreWorker& worker = Worker();
  absl::StatusOr<std::vector<core::StoredObject>> objects;
  bool timed_out = false;
  WaitInSlices(
      timeout_s,
      [&](absl::Duration step) {
        objects = worker.Get(ids, step);
        return !absl::IsDeadlineExceeded(objects.status());
      },
      &timed_out);
  if (timed_out) {
    PyErr_SetString(
        PyExc_TimeoutError,
        absl::StrCat("Get timed out: some object(s) not ready after ", timeout_s, " s").c_str());
    throw py::error_already_set();
  }
  if (!objects.ok()) throw std::runtime_error(std::string(objects.status().message()));
  py::list out;
  for (core::StoredObject& object : *objects) out.append(ObjectToPython(object));
  return out;
}

std::vector<bool> Wait(const std::vector<py::bytes>& id_bytes, int num_returns, double timeout_s) {
  const std::vector<ObjectId> ids = IdsOf(id_bytes);
  core::CoreWorker& worker = Worker();
  std::vector<bool> ready(ids.size(), false);
  bool timed_out = false;
  WaitInSlices(
      timeout_s,
      [&](absl::Duration step) {
        ready = worker.Wait(ids, num_returns, step);
        return std::count(ready.begin(), ready.end(), true) >= num_returns;
      },
      &timed_out);
  return ready;
}

// The buffers of a pickle: what Python's buffer protocol gives for each (contiguous bytes).
struct Parts {
  std::vector<py::buffer_info> infos;
  std::vector<size_t> sizes;
};

Parts PartsOf(const py::list& buffers) {
  Parts parts;
  for (const py::handle buffer : buffers) {
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(buffer).request();
    parts.sizes.push_back(static_cast<size_t>(info.size * info.itemsize));
    parts.infos.push_back(std::move(info));
  }
  return parts;
}

// Writes a Python value (the pickle and its buffers) into `out`, which holds layout.total bytes.
void WriteValue(const Pickle5Layout& layout, std::string_view inband, const Parts& parts,
                char* out) {
  WriteLayout(layout, out);
  std::memcpy(out + layout.inband_offset, inband.data(), inband.size());
  for (size_t i = 0; i < parts.infos.size(); ++i) {
    std::memcpy(out + layout.buffers[i].first, parts.infos[i].ptr, parts.sizes[i]);
  }
}

// A Python value as bytes (task arguments and returns).
py::bytes Pack(const py::bytes& inband_bytes, const py::list& buffers) {
  std::string_view inband = inband_bytes;
  Parts parts = PartsOf(buffers);
  const Pickle5Layout layout = LayOut(inband.size(), parts.sizes);
  // Written straight into the bytes object Python gets (no intermediate copy).
  py::bytes out = py::reinterpret_steal<py::bytes>(
      PyBytes_FromStringAndSize(nullptr, static_cast<py::ssize_t>(layout.total)));
  if (!out) throw py::error_already_set();
  char* data = PyBytes_AS_STRING(out.ptr());
  {
    py::gil_scoped_release release;
    WriteValue(layout, inband, parts, data);
  }
  return out;
}

// Puts a Python value into the store with one copy of its buffers; returns its id.
py::bytes Put(const py::bytes& inband_bytes, const py::list& buffers) {
  std::string_view inband = inband_bytes;
  Parts parts = PartsOf(buffers);
  const Pickle5Layout layout = LayOut(inband.size(), parts.sizes);
  core::CoreWorker& worker = Worker();
  absl::StatusOr<ObjectId> id;
  {
    py::gil_scoped_release release;
    id = worker.PutWith(layout.total, [&](char* out) { WriteValue(layout, inband, parts, out); });
  }
  if (!id.ok()) {
    std::string prefix = absl::IsResourceExhausted(id.status()) ? "ObjectStoreFullError: " : "";
    throw std::runtime_error(prefix + std::string(id.status().message()));
  }
  return py::bytes(id->Binary());
}

// (inband memoryview, [buffer memoryviews]) of a Python value, or ("msgpack", object).
py::tuple Decode(const py::object& value_object) {
  const Value& value = value_object.cast<const Value&>();
  if (!IsPythonValue(value.data(), value.size())) {
    return py::make_tuple("msgpack", FromMsgpack(std::string_view(value.data(), value.size())));
  }
  absl::StatusOr<Pickle5Layout> layout = ReadLayout(value.data(), value.size());
  if (!layout.ok()) throw py::value_error(std::string(layout.status().message()));
  py::memoryview whole(value_object);
  auto slice = [&](size_t offset, size_t length) {
    return whole[py::slice(static_cast<py::ssize_t>(offset),
                           static_cast<py::ssize_t>(offset + length), 1)];
  };
  py::list buffers;
  for (const auto& [offset, length] : layout->buffers) buffers.append(slice(offset, length));
  return py::make_tuple("pickle5", slice(layout->inband_offset, layout->inband_size), buffers);
}

proto::SchedulingStrategy StrategyOf(const py::dict& options) {
  proto::SchedulingStrategy out;
  if (!options.contains("strategy")) return out;
  py::dict s = options["strategy"].cast<py::dict>();
  out.set_kind(static_cast<proto::SchedulingStrategy::Kind>(s["kind"].cast<int>()));
  if (s.contains("node_id")) out.set_node_id(s["node_id"].cast<std::string>());
  if (s.contains("soft")) out.set_soft(s["soft"].cast<bool>());
  if (s.contains("placement_group_id")) {
    out.set_placement_group_id(s["placement_group_id"].cast<std::string>());
  }
  if (s.contains("bundle_index")) out.set_bundle_index(s["bundle_index"].cast<int>());
  if (s.contains("capture_child_tasks")) {
    out.set_capture_child_tasks(s["capture_child_tasks"].cast<bool>());
  }
  return out;
}

// The common part of a Python task, actor creation or actor call: what it runs and its
// arguments. `function` = (module, qualname, pickle_key), `args` = [(is_ref, bytes)].
void FillPythonCall(const py::tuple& function, const std::vector<std::string>& kwarg_names,
                    const py::list& args, proto::TaskSpec* spec) {
  spec->set_language(proto::PYTHON);
  spec->set_caller_language(proto::PYTHON);
  auto* fn = spec->mutable_python_function();
  fn->set_module(function[0].cast<std::string>());
  fn->set_qualname(function[1].cast<std::string>());
  fn->set_pickle_key(function[2].cast<std::string>());
  for (const std::string& name : kwarg_names) fn->add_kwarg_names(name);
  FillArgs(args, spec);
}

}  // namespace

void FillArgs(const py::list& args, proto::TaskSpec* spec) {
  spec->mutable_args()->Reserve(static_cast<int>(py::len(args)));
  for (const py::handle item : args) {
    py::tuple arg = item.cast<py::tuple>();
    auto* out = spec->add_args();
    const bool is_ref = arg[0].cast<bool>();
    out->set_is_ref(is_ref);
    if (is_ref) {
      out->set_object_id(arg[1].cast<std::string>());
    } else {
      out->set_value(arg[1].cast<std::string>());
    }
  }
}

void FillCommonOptions(const py::dict& options, proto::TaskSpec* spec) {
  if (options.contains("resources")) {
    for (const auto& [name, amount] : options["resources"].cast<py::dict>()) {
      (*spec->mutable_resources())[name.cast<std::string>()] = amount.cast<double>();
    }
  }
  *spec->mutable_scheduling_strategy() = StrategyOf(options);
  // Always: without an env of its own, a call runs in this process's (the job's, or the env
  // the calling task runs in).
  const std::string env =
      options.contains("runtime_env") ? options["runtime_env"].cast<std::string>() : "";
  if (env.empty()) {
    api::ResolveRuntimeEnvInto(env, spec);
  } else {
    py::gil_scoped_release release;  // may pack and upload a working_dir
    api::ResolveRuntimeEnvInto(env, spec);
  }
}

namespace {

py::list ReturnIds(const absl::StatusOr<std::vector<ObjectId>>& ids) {
  if (!ids.ok()) throw py::value_error(std::string(ids.status().message()));
  py::list out;
  for (const ObjectId& id : *ids) out.append(py::bytes(id.Binary()));
  return out;
}

py::list SubmitTask(const py::tuple& function, const std::vector<std::string>& kwarg_names,
                    const py::list& args, const py::dict& options) {
  proto::TaskSpec spec;
  FillPythonCall(function, kwarg_names, args, &spec);
  spec.set_function_name(function[1].cast<std::string>());
  return SubmitNormalTask(std::move(spec), options);
}

}  // namespace

py::list SubmitNormalTask(proto::TaskSpec spec, const py::dict& options) {
  spec.set_type(proto::NORMAL_TASK);
  spec.set_name(options.contains("name") ? options["name"].cast<std::string>()
                                         : spec.function_name());
  spec.set_num_returns(options.contains("num_returns") ? options["num_returns"].cast<int>() : 1);
  spec.set_max_retries(options.contains("max_retries") ? options["max_retries"].cast<int>() : 3);
  spec.set_retry_exceptions(options.contains("retry_exceptions") &&
                            options["retry_exceptions"].cast<bool>());
  FillCommonOptions(options, &spec);
  core::CoreWorker& worker = Worker();
  absl::StatusOr<std::vector<ObjectId>> ids;
  {
    py::gil_scoped_release release;
    ids = worker.SubmitTask(std::move(spec));
  }
  return ReturnIds(ids);
}

namespace {

py::bytes CreateActor(const py::tuple& cls, const std::vector<std::string>& kwarg_names,
                      const py::list& args, const py::dict& options) {
  proto::TaskSpec spec;
  FillPythonCall(cls, kwarg_names, args, &spec);
  const std::string class_name = cls[1].cast<std::string>();
  spec.set_function_name(class_name);
  return CreateActorWithSpec(std::move(spec), class_name, options);
}

}  // namespace

py::bytes CreateActorWithSpec(proto::TaskSpec spec, const std::string& class_name,
                              const py::dict& options) {
  spec.set_name(absl::StrCat(class_name, ".__init__"));
  auto* creation = spec.mutable_actor_creation();
  FillCommonOptions(options, &spec);
  if (spec.resources().empty()) {
    (*spec.mutable_resources())["CPU"] = 1;  // to schedule only
  } else {
    creation->set_hold_resources(true);
  }
  const std::string name = options.contains("name") ? options["name"].cast<std::string>() : "";
  const std::string ray_namespace = options["namespace"].cast<std::string>();
  const bool detached = options.contains("detached") && options["detached"].cast<bool>();
  creation->set_max_restarts(options.contains("max_restarts") ? options["max_restarts"].cast<int>()
                                                              : 0);
  creation->set_max_task_retries(
      options.contains("max_task_retries") ? options["max_task_retries"].cast<int>() : 0);
  creation->set_max_concurrency(
      options.contains("max_concurrency") ? options["max_concurrency"].cast<int>() : 1);
  creation->set_name(name);
  creation->set_ray_namespace(ray_namespace);
  creation->set_detached(detached);
  proto::ActorInfo info;
  info.set_class_name(class_name);
  info.set_name(name);
  info.set_ray_namespace(ray_namespace);
  info.set_is_detached(detached);
  info.set_max_restarts(creation->max_restarts());
  info.set_max_task_retries(creation->max_task_retries());
  const bool get_if_exists =
      options.contains("get_if_exists") && options["get_if_exists"].cast<bool>();
  core::CoreWorker& worker = Worker();
  absl::StatusOr<ActorId> id;
  {
    py::gil_scoped_release release;
    id = worker.CreateActor(std::move(spec), std::move(info), get_if_exists);
  }
  if (!id.ok()) {
    if (absl::IsAlreadyExists(id.status()))
      throw py::value_error(std::string(id.status().message()));
    throw std::runtime_error(
        absl::StrCat("could not create the actor ", class_name, ": ", id.status().message()));
  }
  return py::bytes(id->Binary());
}

namespace {

py::list SubmitActorTask(const py::bytes& actor_id, const std::string& method,
                         const std::vector<std::string>& kwarg_names, const py::list& args,
                         const py::dict& options) {
  proto::TaskSpec spec;
  FillPythonCall(py::make_tuple("", method, ""), kwarg_names, args, &spec);
  spec.set_function_name(method);
  return SubmitActorTaskWithSpec(actor_id, std::move(spec), options);
}

}  // namespace

py::list SubmitActorTaskWithSpec(const py::bytes& actor_id, proto::TaskSpec spec,
                                 const py::dict& options) {
  spec.set_actor_id(std::string(std::string_view(actor_id)));
  spec.set_name(options.contains("name") ? options["name"].cast<std::string>()
                                         : spec.function_name());
  spec.set_num_returns(options.contains("num_returns") ? options["num_returns"].cast<int>() : 1);
  core::CoreWorker& worker = Worker();
  absl::StatusOr<std::vector<ObjectId>> ids;
  {
    py::gil_scoped_release release;
    ids = worker.SubmitActorTask(std::move(spec));
  }
  return ReturnIds(ids);
}

namespace {

// The task the executor hands to Python: a dict of what the Python layer needs.
py::dict TaskToPython(const proto::TaskSpec& spec,
                      const std::vector<std::shared_ptr<Buffer>>& args) {
  py::dict task;
  task["type"] = static_cast<int>(spec.type());
  task["task_id"] = py::bytes(spec.task_id());
  task["name"] = spec.name();
  task["module"] = spec.python_function().module();
  task["qualname"] = spec.python_function().qualname();
  task["pickle_key"] = spec.python_function().pickle_key();
  py::list kwarg_names;
  for (const std::string& name : spec.python_function().kwarg_names()) kwarg_names.append(name);
  task["kwarg_names"] = kwarg_names;
  py::list values;
  for (const auto& arg : args) values.append(Value(arg));
  task["args"] = values;
  task["actor_id"] = py::bytes(spec.actor_id());
  task["caller_language"] = static_cast<int>(spec.caller_language());
  task["num_returns"] = spec.num_returns();
  if (spec.type() == proto::ACTOR_CREATION_TASK) {
    task["max_concurrency"] = spec.actor_creation().max_concurrency();
    task["restarted"] = spec.actor_creation().num_restarts() > 0;
  }
  return task;
}

// pickle.dumps(None): the python_exception of an error raised in Python whose exception could
// not be pickled — never empty, so an empty one says the error was C++'s.
constexpr std::string_view kPickledNone("\x80\x04N.", 4);

// What Python's executor returned: ("ok", [bytes]) or ("error", type, message, pickled exception,
// retryable) or ("exit",).
core::TaskResult ResultFromPython(const py::object& result) {
  core::TaskResult out;
  py::tuple tuple = result.cast<py::tuple>();
  const std::string kind = tuple[0].cast<std::string>();
  if (kind == "ok") {
    py::list values = tuple[1].cast<py::list>();
    out.returns.reserve(py::len(values));
    for (const py::handle value : values) out.returns.push_back(value.cast<std::string>());
  } else if (kind == "exit") {
    out.exit_actor = true;
  } else {
    out.error.set_type(static_cast<proto::ErrorType>(tuple[1].cast<int>()));
    out.error.set_message(tuple[2].cast<std::string>());
    out.error.set_python_exception(tuple[3].cast<std::string>());
    out.app_error = tuple[4].cast<bool>();
  }
  return out;
}

// `cancel(task_id)` interrupts the running task; it runs on a thread of its own (the core's
// hook must not block, and taking the GIL may).
int RunWorker(const py::function& execute, const py::function& cancel) {
  // The callbacks hold pointers to the two functions, which outlive ServeAsWorker: the core
  // copies its callbacks on threads without the GIL, and copying a py::function changes a
  // Python reference count.
  core::TaskExecutor::ExecuteFn fn = [execute = &execute](
                                         const proto::TaskSpec& spec,
                                         const std::vector<std::shared_ptr<Buffer>>& args) {
    py::gil_scoped_acquire acquire;
    try {
      return ResultFromPython((*execute)(TaskToPython(spec, args)));
    } catch (py::error_already_set& e) {
      // The Python executor catches user exceptions itself: this is its own failure.
      core::TaskResult out;
      out.error.set_type(proto::TASK_EXECUTION_EXCEPTION);
      out.error.set_python_exception(std::string(kPickledNone));  // raised in Python
      out.error.set_message(
          absl::StrCat("the Python worker failed to run ", spec.name(), ": ", e.what()));
      return out;
    }
  };
  core::TaskExecutor::CancelHook on_cancel = [cancel = &cancel](const TaskId& task_id) {
    std::thread([cancel, id = task_id.Binary()] {
      py::gil_scoped_acquire acquire;
      try {
        (*cancel)(py::bytes(id));
      } catch (py::error_already_set& e) {
        e.discard_as_unraisable("moray: cancelling a running task");
      }
    }).detach();
  };
  py::gil_scoped_release release;
  return api::ServeAsWorker(fn, on_cancel);
}

py::dict Connect(const std::string& address, const std::string& ray_namespace,
                 const std::vector<std::string>& head_args, const std::string& runtime_env,
                 const std::string& python_executable, const std::vector<std::string>& python_path,
                 const std::vector<std::string>& code_search_path, bool log_to_driver) {
  ray::RayConfig config;
  config.log_to_driver = log_to_driver;
  config.code_search_path = code_search_path;
  config.address = address;
  config.ray_namespace = ray_namespace;
  config.head_args = head_args;
  if (!runtime_env.empty()) config.runtime_env = ray::RuntimeEnv::Deserialize(runtime_env);
  api::DriverIdentity identity{python_executable, python_path};
  {
    py::gil_scoped_release release;
    api::InstallRuntime(api::CreateDriverRuntime(config, identity));
  }
  core::CoreWorker& worker = Worker();
  py::dict info;
  info["job_id"] = worker.context().job_id.Hex();
  info["node_id"] = worker.context().node_id.Hex();
  info["worker_id"] = worker.context().worker_id.Hex();
  info["gcs_address"] = worker.gcs_address();
  info["session_dir"] = worker.session_dir();
  info["namespace"] = Runtime().GetNamespace();
  return info;
}

void Disconnect() {
  py::gil_scoped_release release;
  std::unique_ptr<ray::internal::RayRuntime> runtime = api::UninstallRuntime();
  runtime.reset();
}

py::dict ContextInfo() {
  core::CoreWorker& worker = Worker();
  py::dict info;
  info["job_id"] = worker.context().job_id.Hex();
  info["node_id"] = worker.context().node_id.Hex();
  info["worker_id"] = worker.context().worker_id.Hex();
  info["namespace"] = Runtime().GetNamespace();
  info["gcs_address"] = worker.gcs_address();
  info["is_driver"] = worker.context().is_driver;
  return info;
}

}  // namespace

PYBIND11_MODULE(_moray_core, m) {
  m.doc() = "Moray's native core: the core worker under the moray package";

  py::class_<Value>(m, "Value", py::buffer_protocol())
      .def_buffer([](Value& value) {
        return py::buffer_info(const_cast<char*>(value.data()), 1,
                               py::format_descriptor<uint8_t>::format(), 1,
                               {static_cast<py::ssize_t>(value.size())}, {1}, /*readonly=*/true);
      })
      .def("__len__", &Value::size);

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ray::internal::RayRuntimeEnvException& e) {
      PyErr_SetString(PyExc_RuntimeError, absl::StrCat("RuntimeEnvSetupError: ", e.what()).c_str());
    }
  });

  m.def("connect", &Connect, py::arg("address"), py::arg("namespace"), py::arg("head_args"),
        py::arg("runtime_env"), py::arg("python_executable"), py::arg("python_path"),
        py::arg("code_search_path") = std::vector<std::string>{}, py::arg("log_to_driver") = true);
  m.def("disconnect", &Disconnect);
  m.def("is_connected", [] { return api::InstalledCoreWorker() != nullptr; });
  m.def("context", &ContextInfo);
  m.def("run_worker", &RunWorker);

  m.def("pack", &Pack);
  m.def("put", &Put);
  m.def("decode", &Decode);
  m.def("to_msgpack", [](const py::handle& value) { return py::bytes(ToMsgpack(value)); });
  m.def("from_msgpack", [](const py::bytes& data) { return FromMsgpack(std::string_view(data)); });
  m.def("get", &Get, py::arg("ids"), py::arg("timeout"));
  m.def("wait", &Wait, py::arg("ids"), py::arg("num_returns"), py::arg("timeout"));

  m.def("submit_task", &SubmitTask);
  m.def("create_actor", &CreateActor);
  m.def("submit_actor_task", &SubmitActorTask);
  m.def("cancel_task", [](const py::bytes& id, bool force, bool recursive) {
    const std::vector<ObjectId> ids = IdsOf({id});
    absl::Status status;
    {
      py::gil_scoped_release release;
      status = Worker().CancelTask(ids[0], force, recursive);
    }
    if (!status.ok()) throw py::value_error(std::string(status.message()));
  });
  BindCrossLanguage(m);
  m.def("kill_actor", [](const py::bytes& actor_id, bool no_restart) {
    py::gil_scoped_release release;
    Runtime().KillActor(std::string(std::string_view(actor_id)), no_restart);
  });
  m.def("get_named_actor", [](const std::string& name, const std::string& ray_namespace) {
    std::optional<proto::ActorInfo> info;
    {
      py::gil_scoped_release release;
      auto found = Worker().GetNamedActor(name, ray_namespace);
      if (!found.ok()) throw std::runtime_error(std::string(found.status().message()));
      info = *found;
    }
    if (!info) return py::object(py::none());
    return py::object(py::make_tuple(py::bytes(info->actor_id()), info->class_name()));
  });

  // References: ids of objects (20 bytes) or actors (16 bytes, counted as their handles).
  m.def("add_reference", [](const py::bytes& id) {
    Runtime().AddLocalReference(std::string(std::string_view(id)));
  });
  m.def("remove_reference", [](const py::bytes& id) {
    ray::internal::RayRuntime* runtime = ray::internal::GetRuntimeOrNull();
    if (!runtime) return;  // after shutdown: nothing is counted any more
    std::string bytes{std::string_view(id)};
    py::gil_scoped_release release;
    runtime->RemoveLocalReference(bytes);
  });
  m.def("owner_address", [](const py::bytes& id) {
    return Runtime().GetOwnerAddress(std::string(std::string_view(id)));
  });
  m.def("register_borrowed", [](const py::bytes& id, const std::string& owner) {
    Runtime().RegisterBorrowedReference(std::string(std::string_view(id)), owner);
  });

  m.def("kv_put",
        [](const std::string& ns, const std::string& key, const py::bytes& value, bool overwrite) {
          std::string bytes{std::string_view(value)};
          py::gil_scoped_release release;
          auto put = api::InstalledGcsClient().KvPut(ns, key, bytes, overwrite);
          if (!put.ok()) throw std::runtime_error(std::string(put.status().message()));
          return *put;
        });
  m.def("kv_get", [](const std::string& ns, const std::string& key) -> py::object {
    std::optional<std::string> value;
    {
      py::gil_scoped_release release;
      auto got = api::InstalledGcsClient().KvGet(ns, key);
      if (!got.ok()) throw std::runtime_error(std::string(got.status().message()));
      value = *std::move(got);
    }
    if (!value) return py::none();
    return py::bytes(*value);
  });

  m.def("nodes", [] {
    std::vector<ray::Node> nodes;
    {
      py::gil_scoped_release release;
      nodes = Runtime().Nodes();
    }
    py::list out;
    for (const ray::Node& node : nodes) {
      py::dict d;
      d["NodeID"] = node.node_id;
      d["Alive"] = node.alive;
      d["NodeManagerAddress"] = node.node_ip;
      d["NodeName"] = node.node_name;
      d["IsHead"] = node.is_head;
      py::dict resources;
      for (const auto& [name, amount] : node.resources) resources[py::str(name)] = amount;
      d["Resources"] = resources;
      py::dict labels;
      for (const auto& [key, value] : node.labels) labels[py::str(key)] = value;
      d["Labels"] = labels;
      out.append(d);
    }
    return out;
  });
  // Placement groups: through the runtime's own (api/cluster_placement_groups.h).
  m.def("create_placement_group",
        [](const std::vector<std::unordered_map<std::string, double>>& bundles, int strategy,
           const std::string& name, bool detached, const std::string& ray_namespace) {
          ray::PlacementGroupCreationOptions options;
          options.bundles = bundles;
          options.strategy = static_cast<ray::PlacementStrategy>(strategy);
          options.name = name;
          options.detached = detached;
          options.ray_namespace = ray_namespace;
          py::gil_scoped_release release;
          return Runtime().CreatePlacementGroup(options).GetID();
        });
  m.def("remove_placement_group", [](const std::string& id) {
    py::gil_scoped_release release;
    Runtime().RemovePlacementGroup(id);
  });
  m.def("wait_placement_group", [](const std::string& id, int timeout_seconds) {
    py::gil_scoped_release release;
    return static_cast<int>(Runtime().WaitPlacementGroup(id, timeout_seconds));
  });
  m.def("placement_group_info",
        [](const std::string& id, const std::string& name,
           const std::string& ray_namespace) -> py::object {
          ray::PlacementGroup group;
          {
            py::gil_scoped_release release;
            group = id.empty() ? Runtime().GetPlacementGroup(name, ray_namespace)
                               : Runtime().GetPlacementGroupById(id);
          }
          if (group.Empty()) return py::none();
          py::dict info;
          info["placement_group_id"] = group.GetID();
          info["name"] = group.GetName();
          info["bundles"] = group.GetBundles();
          info["state"] = static_cast<int>(group.GetState());
          info["strategy"] = static_cast<int>(group.GetStrategy());
          return info;
        });
  m.def("placement_group_ids", [] {
    std::vector<ray::PlacementGroup> groups;
    {
      py::gil_scoped_release release;
      groups = Runtime().GetAllPlacementGroups();
    }
    std::vector<std::string> ids;
    for (const auto& group : groups) ids.push_back(group.GetID());
    return ids;
  });
  m.def("available_resources", [] {
    py::gil_scoped_release release;
    return Runtime().AvailableResources();
  });
  BindState(m);
}

}  // namespace moray::python
