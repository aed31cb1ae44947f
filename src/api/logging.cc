// RAYLOG's sink: the process's spdlog default logger (set up by moray::InitLogging in runtime
// processes; spdlog's stderr default in a driver that did not).
#include "ray/api/logging.h"

#include <cstdlib>

#include "spdlog/spdlog.h"

namespace ray::internal {
namespace {

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDEBUG:
      return spdlog::level::debug;
    case LogLevel::kINFO:
      return spdlog::level::info;
    case LogLevel::kWARNING:
      return spdlog::level::warn;
    case LogLevel::kERROR:
      return spdlog::level::err;
    case LogLevel::kFATAL:
      return spdlog::level::critical;
  }
  return spdlog::level::info;
}

}  // namespace

bool IsLogLevelEnabled(LogLevel level) {
  return level == LogLevel::kFATAL || spdlog::default_logger_raw()->should_log(ToSpdlog(level));
}

void WriteLogLine(LogLevel level, const char* file, int line, const std::string& message) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  logger->log(spdlog::source_loc{file, line, ""}, ToSpdlog(level), "{}", message);
  if (level == LogLevel::kFATAL) {
    logger->flush();
    std::abort();
  }
}

}  // namespace ray::internal
