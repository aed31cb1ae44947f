// What the dashboard process (`moray dashboard`, started by `moray start --head`) is started
// with. Its --dashboard-port comes from the node options' table (common/node_options.cc); the
// rest is how the launcher talks to it.
#pragma once

#include <string>

namespace moray::dashboard {

struct DashboardOptions {
  std::string host = "127.0.0.1";  // HTTP bind address (the node's IP)
  int port = 8265;                 // 0: any free port
  std::string gcs_address;         // host:port
  std::string session_dir;         // logs/dashboard.log, logs/job-driver-*.log
  int ready_fd = -1;               // if >= 0: "<port>\n" once serving, then closed
};

}  // namespace moray::dashboard
