// RAYLOG: logging from user code into the same log as the runtime (the process's spdlog default
// logger; in workers, the worker's log file).
//
//   RAYLOG(INFO) << "processing " << items.size() << " items";
//   RAYLOG(FATAL) << "cannot continue";  // logs, then aborts the process
//
// Levels: DEBUG, INFO, WARNING, ERROR, FATAL. A disabled level costs one function call; the
// streamed expressions are not evaluated. Thread-safe.
#pragma once

#include <sstream>
#include <string>

namespace ray::internal {

enum class LogLevel { kDEBUG = 0, kINFO = 1, kWARNING = 2, kERROR = 3, kFATAL = 4 };

// Defined in libmoray (src/api/logging.cc).
bool IsLogLevelEnabled(LogLevel level);
// Writes one line; for kFATAL, flushes and aborts.
void WriteLogLine(LogLevel level, const char* file, int line, const std::string& message);

// One log line, written when destroyed.
class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line) : level_(level), file_(file), line_(line) {}
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  ~LogMessage() { WriteLogLine(level_, file_, line_, stream_.str()); }

  std::ostream& Stream() { return stream_; }

 private:
  LogLevel level_;
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

// Turns `stream << ...` into void so that RAYLOG can be the false branch of ?:.
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace ray::internal

// The level is pasted (not macro-expanded), so platform macros named ERROR or DEBUG do not interfere.
#define RAYLOG(level)                                                                      \
  !::ray::internal::IsLogLevelEnabled(::ray::internal::LogLevel::k##level)                 \
      ? (void)0                                                                            \
      : ::ray::internal::LogVoidify() &                                                    \
            ::ray::internal::LogMessage(::ray::internal::LogLevel::k##level, __FILE__, __LINE__) \
                .Stream()
