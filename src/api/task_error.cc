#include "api/task_error.h"

#include <cxxabi.h>

#include <typeinfo>

#include "ray/api/util.h"

namespace moray::api {

std::string FormatTaskError(const std::string& function_name, std::exception_ptr error) {
  std::string type = "unknown";
  std::string what = "(not a std::exception)";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
    // The dynamic type (e.g. std::runtime_error, not std::exception).
    type = ray::internal::Demangle(typeid(e).name());
  } catch (...) {
    if (const std::type_info* info = abi::__cxa_current_exception_type()) {
      type = ray::internal::Demangle(info->name());
    }
  }
  return "An exception was thrown while executing function(" + function_name + "): " + type +
         ": " + what;
}

}  // namespace moray::api
