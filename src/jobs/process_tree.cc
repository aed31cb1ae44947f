#include "jobs/process_tree.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

namespace moray::jobs {
namespace {

std::string ReadProcFile(const std::string& path) {
  std::string text;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  return text;
}

struct Stat {
  bool ok = false;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
  uint64_t start_time = 0;
};

// /proc/<pid>/stat: "pid (comm) state ppid pgrp session ... starttime(22) ..."; comm may hold
// spaces and parentheses, so fields are counted from the last ')'.
Stat ReadStat(pid_t pid) {
  Stat stat;
  std::string text = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close_paren = text.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= text.size()) return stat;
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  size_t pos = close_paren + 2;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    fields.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  if (fields.size() < 20) return stat;
  stat.state = fields[0].empty() ? '?' : fields[0][0];
  stat.ppid = static_cast<pid_t>(std::strtol(fields[1].c_str(), nullptr, 10));
  stat.pgrp = static_cast<pid_t>(std::strtol(fields[2].c_str(), nullptr, 10));
  stat.start_time = std::strtoull(fields[19].c_str(), nullptr, 10);
  stat.ok = true;
  return stat;
}

bool EnvironHas(pid_t pid, const std::string& marker) {
  std::string env = ReadProcFile("/proc/" + std::to_string(pid) + "/environ");
  size_t pos = 0;
  while (pos < env.size()) {
    size_t end = env.find('\0', pos);
    if (end == std::string::npos) end = env.size();
    if (env.compare(pos, end - pos, marker) == 0) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

std::vector<ProcessRef> JobProcesses(pid_t root, const std::string& marker) {
  std::map<pid_t, Stat> all;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    pid_t pid = static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10));
    Stat stat = ReadStat(pid);
    if (stat.ok && stat.state != 'Z') all.emplace(pid, stat);
  }
  std::set<pid_t> chosen;
  if (all.count(root)) chosen.insert(root);
  for (const auto& [pid, stat] : all) {
    if (stat.pgrp == root) chosen.insert(pid);
    if (!marker.empty() && pid != getpid() && EnvironHas(pid, marker)) chosen.insert(pid);
  }
  // Descendants of everything chosen so far, until no more are added.
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, stat] : all) {
      if (!chosen.count(pid) && chosen.count(stat.ppid)) grew = chosen.insert(pid).second || grew;
    }
  }
  std::vector<ProcessRef> refs;
  for (pid_t pid : chosen) refs.push_back({pid, all[pid].start_time});
  return refs;
}

void SignalAll(const std::vector<ProcessRef>& processes, int signo) {
  for (const ProcessRef& p : processes) {
    Stat stat = ReadStat(p.pid);
    if (stat.ok && stat.start_time == p.start_time) kill(p.pid, signo);
  }
}

bool AnyAlive(const std::vector<ProcessRef>& processes) {
  for (const ProcessRef& p : processes) {
    Stat stat = ReadStat(p.pid);
    if (stat.ok && stat.start_time == p.start_time && stat.state != 'Z') return true;
  }
  return false;
}

}  // namespace moray::jobs
