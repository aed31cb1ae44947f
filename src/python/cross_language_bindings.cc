// Python calling C++ (docs/python.md, "Across languages"): CPP-language specs naming a function,
// actor factory or method registered with RAY_REMOTE, with msgpack arguments (the Python layer,
// python/moray/cross_language.py, encodes them with to_msgpack). A Python job's C++ workers run
// `moray worker` with its code_search_path.
#include <string>
#include <utility>

#include "python/bindings.h"

namespace moray::python {
namespace py = pybind11;

namespace {

proto::TaskSpec CppCall(const std::string& function_name, const py::list& args) {
  proto::TaskSpec spec;
  spec.set_language(proto::CPP);
  spec.set_caller_language(proto::PYTHON);
  spec.set_function_name(function_name);
  FillArgs(args, &spec);
  return spec;
}

}  // namespace

void BindCrossLanguage(py::module_& m) {
  m.def(
      "submit_cpp_task",
      [](const std::string& function_name, const py::list& args, const py::dict& options) {
        return SubmitNormalTask(CppCall(function_name, args), options);
      },
      py::arg("function_name"), py::arg("args"), py::arg("options"));
  m.def(
      "create_cpp_actor",
      [](const std::string& factory_name, const std::string& class_name, const py::list& args,
         const py::dict& options) {
        return CreateActorWithSpec(CppCall(factory_name, args), class_name, options);
      },
      py::arg("factory_name"), py::arg("class_name"), py::arg("args"), py::arg("options"));
  m.def(
      "submit_cpp_actor_task",
      [](const py::bytes& actor_id, const std::string& method_name, const py::list& args,
         const py::dict& options) {
        return SubmitActorTaskWithSpec(actor_id, CppCall(method_name, args), options);
      },
      py::arg("actor_id"), py::arg("method_name"), py::arg("args"), py::arg("options"));
}

}  // namespace moray::python
