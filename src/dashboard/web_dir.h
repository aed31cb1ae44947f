// Where the dashboard's pages are: share/moray/dashboard beside the executable's bin/ directory,
// so the same rule finds the installed copy (<prefix>/bin/moray, <prefix>/share/moray/dashboard)
// and the build tree's (build/bin/moray, build/share/moray/dashboard, copied there by the build).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace moray::dashboard {

// The directory, if it holds index.html; NotFound naming the place looked at otherwise.
absl::StatusOr<std::string> FindWebDir();

// Same, relative to a given executable path (for tests).
absl::StatusOr<std::string> WebDirOf(const std::string& executable);

}  // namespace moray::dashboard
