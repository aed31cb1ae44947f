#include "common/logging.h"

#include <cstdlib>

#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace moray {

void InitLogging(const std::string& component, const std::string& file) {
  // A process may initialize twice (ray::Init after Shutdown): reuse the logger it made.
  std::string name = file.empty() ? component + "_stderr" : component;
  std::shared_ptr<spdlog::logger> logger = spdlog::get(name);
  try {
    if (!logger && !file.empty()) logger = spdlog::basic_logger_mt(name, file);
  } catch (const spdlog::spdlog_ex&) {
    logger = nullptr;  // fall back to stderr below
  }
  if (!logger) {
    name = component + "_stderr";
    logger = spdlog::get(name);
    if (!logger) logger = spdlog::stderr_logger_mt(name);
  }
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%P:%t] [%l] %v");
  const char* level = std::getenv("MORAY_LOG_LEVEL");
  logger->set_level(level ? spdlog::level::from_str(level) : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace moray
