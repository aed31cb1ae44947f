// Remote functions that live in a shared library, for the code_search_path tests: the driver links
// the library (so ray::Task(f) knows the names), and the generic `moray worker` loads it from
// RayConfig::code_search_path.
#pragma once

#include <string>

namespace code_search_path {

// readlink("/proc/self/exe") of the process that runs the task.
std::string ExecutablePath();
int Multiply(int a, int b);
// "on=<MORAY_NODE_ID> lib=<the file this library was loaded from>" of the process that runs it.
std::string NodeAndLibrary();

}  // namespace code_search_path
