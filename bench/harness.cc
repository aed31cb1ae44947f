#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace moray::bench {

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool ReadFull(int fd, char* buf, size_t n) {
  while (n > 0) {
    ssize_t got = read(fd, buf, n);
    if (got <= 0) return false;
    buf += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool WriteFull(int fd, const char* buf, size_t n) {
  while (n > 0) {
    ssize_t put = write(fd, buf, n);
    if (put <= 0) return false;
    buf += put;
    n -= static_cast<size_t>(put);
  }
  return true;
}

std::string ExitDescription(int status) {
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "exit status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

std::string FullName(const Options& opt, const std::string& base) { return base + opt.suffix; }

bool Wanted(const Options& opt, const std::string& base) {
  if (!opt.only.empty() && !Contains(opt.only, base)) return false;
  std::string name = FullName(opt, base);
  if (!opt.metrics.empty()) return Contains(opt.metrics, name);
  return opt.filter.empty() || name.find(opt.filter) != std::string::npos;
}

std::vector<double> Timeit(const Options& opt, const std::string& base,
                           const std::function<void()>& fn, double multiplier,
                           const std::string& unit, bool always) {
  const std::string name = FullName(opt, base);
  if (!(always && opt.only.empty()) && !Wanted(opt, base)) return {};
  if (!always && !Contains(opt.known, name)) {
    std::fprintf(stderr, "microbenchmark: metric %s is missing from MetricNames()\n", name.c_str());
    std::abort();  // a bug in this program: --list and --metric would not know it
  }
  std::vector<double> rates;
  try {
    auto start = Clock::now();
    long calls = 0;
    while (calls == 0 || SecondsSince(start) < opt.warmup_seconds) {
      fn();
      ++calls;
    }
    // Calls per clock read, so cheap calls are not dominated by reading the clock.
    long step = std::max(1L, calls / 20);
    for (int w = 0; w < opt.windows; ++w) {
      long count = 0;
      start = Clock::now();
      double elapsed = 0;
      do {
        for (long i = 0; i < step; ++i) fn();
        count += step;
        elapsed = SecondsSince(start);
      } while (elapsed < opt.window_seconds);
      rates.push_back(multiplier * count / elapsed);
    }
  } catch (const std::exception& e) {
    Report(Failed(name, e.what()));
    return {};
  } catch (...) {
    Report(Failed(name, "an exception that is not a std::exception"));
    return {};
  }
  Report({name, Mean(rates), StdDev(rates), unit, ""});
  return rates;
}

void MemcpyBaseline(const Options& opt, const std::string& name, size_t bytes, int threads) {
  std::vector<std::vector<uint8_t>> src(threads), dst(threads);
  for (int t = 0; t < threads; ++t) {
    src[t].assign(bytes, static_cast<uint8_t>(t + 1));
    dst[t].assign(bytes, 0);
  }
  Timeit(opt, name,
         [&] {
           std::vector<std::thread> copiers;
           for (int t = 1; t < threads; ++t) {
             copiers.emplace_back([&, t] { std::memcpy(dst[t].data(), src[t].data(), bytes); });
           }
           std::memcpy(dst[0].data(), src[0].data(), bytes);
           for (auto& c : copiers) c.join();
         },
         threads * bytes / 1e9, "GB/s", /*always=*/true);
}

void TcpRoundTripBaseline(const Options& opt) {
  constexpr size_t kMessage = 64;
  const std::string name = "tcp_roundtrip_64b_baseline";
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      listen(listener, 1) != 0) {
    Report(Failed(name, std::string("cannot listen on 127.0.0.1: ") + std::strerror(errno)));
    if (listener >= 0) close(listener);
    return;
  }
  // The echo side is a forked process that makes only system calls (this process has other
  // threads, so nothing that could take a lock), and ends when the connection closes.
  pid_t echo = fork();
  if (echo == 0) {
    int fd = accept(listener, nullptr, nullptr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char buf[kMessage];
    while (ReadFull(fd, buf, kMessage) && WriteFull(fd, buf, kMessage)) {
    }
    _exit(0);
  }
  close(listener);
  int fd = echo > 0 ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
  int one = 1;
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    Report(Failed(name, std::string("cannot connect to the echo process: ") +
                            std::strerror(errno)));
  } else {
    char buf[kMessage] = {1};
    std::vector<double> rates = Timeit(
        opt, name,
        [&] {
          if (!WriteFull(fd, buf, kMessage) || !ReadFull(fd, buf, kMessage)) {
            throw std::runtime_error("the echo process closed the connection");
          }
        },
        1, "round trips/s", /*always=*/true);
    if (!rates.empty()) {
      std::vector<double> micros;
      for (double rate : rates) micros.push_back(1e6 / rate);
      Report({FullName(opt, "tcp_roundtrip_64b_us_baseline"), Mean(micros), StdDev(micros), "µs",
              "two processes, 64-byte messages, TCP_NODELAY, 127.0.0.1"});
    }
  }
  if (fd >= 0) close(fd);
  if (echo > 0) {
    kill(echo, SIGKILL);  // if it is still blocked in accept
    waitpid(echo, nullptr, 0);
  }
}

std::vector<Result> RunChild(const std::vector<std::string>& args,
                             const std::vector<std::string>& env, std::string* failure,
                             double* first_line_ms) {
  if (failure) failure->clear();
  int fds[2];
  if (pipe(fds) != 0) {
    if (failure) *failure = std::string("pipe: ") + std::strerror(errno);
    return {};
  }
  // Everything exec needs is built before fork: the child may only make system calls.
  std::vector<std::string> argv_store = {"microbenchmark"};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('=') + 1);
    bool replaced = std::any_of(env.begin(), env.end(),
                                [&](const std::string& x) { return x.rfind(key, 0) == 0; });
    if (!replaced) env_store.push_back(entry);
  }
  env_store.insert(env_store.end(), env.begin(), env.end());
  std::vector<char*> child_argv, child_env;
  for (auto& a : argv_store) child_argv.push_back(a.data());
  for (auto& e : env_store) child_env.push_back(e.data());
  child_argv.push_back(nullptr);
  child_env.push_back(nullptr);
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execve("/proc/self/exe", child_argv.data(), child_env.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while (pid > 0 && (n = read(fds[0], buf, sizeof(buf))) > 0) {
    out.append(buf, n);
    if (first_line_ms && *first_line_ms < 0 && out.find('\n') != std::string::npos) {
      *first_line_ms = SecondsSince(start) * 1000;
    }
  }
  close(fds[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) {
    if (failure) *failure = std::string("cannot run a child driver: ") + std::strerror(errno);
    return {};
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = "child driver (" + (args.empty() ? std::string() : args[0]) + ") " +
                      ExitDescription(status) + "; its log is on stderr";
    std::printf("(%s)\n", why.c_str());
    if (failure) *failure = why;
  }
  return ParseChildResults(out);
}

// ---------------------------------------------------------------------------------------------
// Options.

namespace {

// The benchmark's own options; `takes_value`: a "--flag value" form exists.
bool IsBenchOption(const std::string& arg, bool* takes_value) {
  *takes_value = false;
  for (const char* flag : {"--json", "--jsonl", "--filter", "--metric", "--windows",
                           "--window-seconds", "--warmup-seconds"}) {
    if (arg == flag) return *takes_value = true;
    if (arg.rfind(std::string(flag) + "=", 0) == 0) return true;
  }
  return arg == "--no-moray" || arg == "--list" || arg == "--baselines" ||
         arg.rfind("--child=", 0) == 0;
}

[[noreturn]] void Usage(const std::string& error) {
  std::fprintf(stderr,
               "microbenchmark: %s\n"
               "usage: microbenchmark [--json PATH] [--jsonl PATH] [--filter TEXT] "
               "[--metric NAME]... [--windows N] [--window-seconds S] [--warmup-seconds S] "
               "[--no-moray] [--list] [--baselines] "
               "[--ray_* flags of ray::Init]\n",
               error.c_str());
  std::exit(2);
}

}  // namespace

std::string FlagValue(int argc, char** argv, const std::string& flag) {
  std::string value;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind(flag + "=", 0) == 0) value = arg.substr(flag.size() + 1);
    if (arg == flag && i + 1 < argc) value = argv[++i];
  }
  return value;
}

std::vector<std::string> InitArgs(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    bool takes_value = false;
    if (IsBenchOption(argv[i], &takes_value)) {
      if (takes_value) ++i;
      continue;
    }
    args.push_back(argv[i]);
  }
  return args;
}

Options ParseOptions(int argc, char** argv, const std::vector<std::string>& known) {
  Options opt;
  opt.known = known;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool takes_value = false;
    if (!IsBenchOption(arg, &takes_value) || arg.rfind("--child=", 0) == 0) continue;
    if (arg == "--no-moray") {
      opt.moray_figures = false;
      continue;
    }
    if (arg == "--list") {
      opt.list = true;
      continue;
    }
    if (arg == "--baselines") {
      opt.baselines = true;
      continue;
    }
    std::string flag = arg.substr(0, arg.find('='));
    std::string value;
    if (takes_value) {
      if (i + 1 >= argc) Usage(flag + " needs a value");
      value = argv[++i];
    } else {
      value = arg.substr(flag.size() + 1);
    }
    if (flag == "--json") {
      opt.json_path = value;
    } else if (flag == "--jsonl") {
      opt.jsonl_path = value;
    } else if (flag == "--filter") {
      opt.filter = value;
    } else if (flag == "--metric") {
      if (!Contains(known, value)) Usage("unknown metric '" + value + "' (--list names them)");
      opt.metrics.push_back(value);
    } else if (flag == "--windows") {
      opt.windows = std::atoi(value.c_str());
      if (opt.windows < 1) Usage("--windows must be a whole number of at least 1");
    } else if (flag == "--window-seconds") {
      opt.window_seconds = std::atof(value.c_str());
      if (!(opt.window_seconds > 0)) Usage("--window-seconds must be a positive number of seconds");
    } else if (flag == "--warmup-seconds") {
      opt.warmup_seconds = std::atof(value.c_str());
      if (!(opt.warmup_seconds >= 0)) Usage("--warmup-seconds must be a number of seconds >= 0");
    }
  }
  return opt;
}

}  // namespace moray::bench
