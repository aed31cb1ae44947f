#include "raylet/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace moray::raylet {
namespace {

int OpenOrDevNull(const std::string& path, int flags) {
  int fd = -1;
  if (!path.empty()) fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) fd = open("/dev/null", flags | O_CLOEXEC);
  return fd;
}

// Only async-signal-safe calls: the parent may have other threads holding locks.
[[noreturn]] void RunChild(pid_t parent, int out_fd, int err_fd, int in_fd, int errno_fd,
                           char* const* argv, char* const* envp, const char* cwd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);  // the parent died before prctl took effect
  setpgid(0, 0);
  dup2(in_fd, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
#ifdef SYS_close_range
  syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
#endif
  if (cwd != nullptr && chdir(cwd) != 0) {
    int err = errno;
    ssize_t ignored = write(errno_fd, &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  execve(argv[0], argv, envp);
  int err = errno;
  ssize_t ignored = write(errno_fd, &err, sizeof err);
  (void)ignored;
  _exit(127);
}

}  // namespace

absl::StatusOr<Child> Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return absl::InvalidArgumentError("no program to execute");
  }
  // Everything the child needs is prepared before fork.
  std::vector<char*> argv;
  for (const std::string& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& var : spec.env) envp.push_back(const_cast<char*>(var.c_str()));
  envp.push_back(nullptr);
  const int out_fd = spec.stdout_fd >= 0
                         ? fcntl(spec.stdout_fd, F_DUPFD_CLOEXEC, 3)
                         : OpenOrDevNull(spec.stdout_path, O_WRONLY | O_CREAT | O_APPEND);
  const int err_fd = spec.stderr_fd >= 0
                         ? fcntl(spec.stderr_fd, F_DUPFD_CLOEXEC, 3)
                         : OpenOrDevNull(spec.stderr_path, O_WRONLY | O_CREAT | O_APPEND);
  const int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int errno_pipe[2];
  if (out_fd < 0 || err_fd < 0 || in_fd < 0 || pipe2(errno_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    for (int fd : {out_fd, err_fd, in_fd}) {
      if (fd >= 0) close(fd);
    }
    return absl::InternalError(absl::StrCat("spawn ", spec.argv[0], ": ", strerror(err)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    close(errno_pipe[0]);
    RunChild(parent, out_fd, err_fd, in_fd, errno_pipe[1], argv.data(), envp.data(),
             spec.cwd.empty() ? nullptr : spec.cwd.c_str());
  }
  const int fork_errno = errno;
  close(errno_pipe[1]);
  for (int fd : {out_fd, err_fd, in_fd}) close(fd);
  if (pid < 0) {
    close(errno_pipe[0]);
    return absl::ResourceExhaustedError(absl::StrCat("fork: ", strerror(fork_errno)));
  }
  // Blocks only until exec succeeds (the pipe closes) or fails (the child writes errno).
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(errno_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(errno_pipe[0]);
  if (n == sizeof child_errno) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const std::string message = absl::StrCat("exec ", spec.argv[0], ": ", strerror(child_errno));
    if (child_errno == ENOENT || child_errno == ENOTDIR) return absl::NotFoundError(message);
    if (child_errno == EACCES || child_errno == EPERM) return absl::PermissionDeniedError(message);
    return absl::FailedPreconditionError(message);
  }
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const int err = errno;
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return absl::InternalError(absl::StrCat("pidfd_open: ", strerror(err)));
  }
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  return Child{pid, pidfd};
}

void SignalProcessGroup(pid_t pid, int signal) {
  if (pid <= 0) return;
  if (kill(-pid, signal) != 0) kill(pid, signal);
}

bool Reap(pid_t pid, int* status) {
  pid_t r;
  do {
    r = waitpid(pid, status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  return r == pid;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
                        ")");
  }
  return absl::StrCat("wait status ", status);
}

}  // namespace moray::raylet
