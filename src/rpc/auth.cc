#include "rpc/auth.h"

#include <fcntl.h>
#include <linux/fs.h>  // RENAME_NOREPLACE
#include <pwd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/id.h"

namespace moray::rpc {
namespace {

constexpr const char* kModeVar = "RAY_AUTH_MODE";
constexpr const char* kTokenVar = "RAY_AUTH_TOKEN";
constexpr const char* kTokenPathVar = "RAY_AUTH_TOKEN_PATH";
// A token file is a line of text; anything larger is not one (and is not read into memory).
constexpr size_t kMaxTokenFileBytes = 64 << 10;

const char* Getenv(const char* name) { return std::getenv(name); }

absl::StatusOr<AuthMode> ModeFromEnvironment() {
  const char* value = Getenv(kModeVar);
  std::string mode = absl::AsciiStrToLower(absl::StripAsciiWhitespace(value ? value : ""));
  if (mode.empty() || mode == "token") return AuthMode::kToken;
  if (mode == "disabled") return AuthMode::kDisabled;
  return absl::InvalidArgumentError(absl::StrCat(kModeVar, " must be token (the default) or ",
                                                 "disabled, not '", value, "'"));
}

absl::Status FileError(const std::string& path, int err) {
  std::string message = absl::StrCat("cannot read the auth token file ", path, ": ",
                                     std::strerror(err));
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::FailedPreconditionError(message);
}

// The trimmed token in `path`; nullopt if the file does not exist. `what` names the source in
// the empty-file error ("RAY_AUTH_TOKEN_PATH (/x)", or the default path).
absl::StatusOr<std::optional<std::string>> ReadTokenFile(const std::string& path,
                                                         const std::string& what) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    return FileError(path, errno);
  }
  std::string text;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return FileError(path, err);  // EISDIR for a directory
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxTokenFileBytes) {
      close(fd);
      return absl::InvalidArgumentError(absl::StrCat(
          "the auth token file ", path, " is larger than 64 KiB: it does not hold a token"));
    }
  }
  close(fd);
  std::string token(absl::StripAsciiWhitespace(text));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is empty: it must hold the cluster's token (`moray get-auth-token` on the head "
              "node prints it)"));
  }
  return token;
}

// The token of the first source that is set, in Ray's order; nullopt when none is (the default
// file does not exist).
absl::StatusOr<std::optional<AuthConfig>> FindToken() {
  if (const char* value = Getenv(kTokenVar)) {
    std::string token(absl::StripAsciiWhitespace(value));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kTokenVar, " is set but empty (unset it to use ", kTokenPathVar, " or ",
                       DefaultTokenPath(), ")"));
    }
    return AuthConfig{AuthMode::kToken, std::move(token), kTokenVar};
  }
  if (const char* value = Getenv(kTokenPathVar)) {
    std::string path = value;
    if (absl::StripAsciiWhitespace(path).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(kTokenPathVar, " is set but empty (unset it "
                                                     "to use ", DefaultTokenPath(), ")"));
    }
    auto token = ReadTokenFile(path, absl::StrCat("the auth token file ", path, " (",
                                                  kTokenPathVar, ")"));
    if (!token.ok()) return token.status();
    if (!token->has_value()) {
      return absl::NotFoundError(absl::StrCat(kTokenPathVar, " names ", path,
                                              ", which does not exist"));
    }
    return AuthConfig{AuthMode::kToken, std::move(**token), path};
  }
  const std::string path = DefaultTokenPath();
  auto token = ReadTokenFile(path, absl::StrCat("the auth token file ", path));
  if (!token.ok()) return token.status();
  if (!token->has_value()) return std::nullopt;
  return AuthConfig{AuthMode::kToken, std::move(**token), path};
}

absl::Status NoTokenError() {
  return absl::NotFoundError(absl::StrCat(
      "no cluster auth token found (authentication is on: ", kModeVar,
      " is token by default). Looked in ", kTokenVar, " (not set), ", kTokenPathVar,
      " (not set) and ", DefaultTokenPath(),
      " (does not exist). Create one with `moray get-auth-token --generate`, or start a "
      "cluster with `moray start --head`, which creates it; to reach another machine's cluster, "
      "put its token (`moray get-auth-token` there) in one of these places"));
}

absl::StatusOr<AuthConfig> TokenOrError() {
  auto found = FindToken();
  if (!found.ok()) return found.status();
  if (!found->has_value()) return NoTokenError();
  return **found;
}

absl::Status WriteError(const std::string& what, const std::string& path, int err) {
  std::string message = absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(err));
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

// Writes `token` to a new 0600 file in `dir`; returns its path.
absl::StatusOr<std::string> WriteTemporary(const std::string& dir, const std::string& token) {
  std::string path = dir + "/.auth_token.XXXXXX";
  int fd = mkostemp(path.data(), O_CLOEXEC);  // 0600 from the start, whatever the umask
  if (fd < 0) return WriteError("create a file in", dir, errno);
  const std::string text = token + "\n";
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      unlink(path.c_str());
      return WriteError("write", path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int err = errno;
    unlink(path.c_str());
    return WriteError("write", path, err);
  }
  return path;
}

// Puts the complete file `from` at `to` unless a file is already there (kept: another starter
// won the race). link() fails with EEXIST rather than replace; renameat2(RENAME_NOREPLACE) is the
// same for filesystems without hard links. True if ours is now in place.
absl::StatusOr<bool> PlaceWithoutReplacing(const std::string& from, const std::string& to) {
  bool placed = link(from.c_str(), to.c_str()) == 0;
  int err = errno;
  if (!placed && err != EEXIST) {
    placed = syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                     RENAME_NOREPLACE) == 0;
    err = errno;
  }
  unlink(from.c_str());  // after a rename it is gone already
  if (placed || err == EEXIST) return placed;
  return WriteError("create", to, err);
}

std::atomic<const AuthConfig*> g_process_auth{nullptr};

}  // namespace

std::string_view AuthModeName(AuthMode mode) {
  return mode == AuthMode::kDisabled ? "disabled" : "token";
}

absl::StatusOr<AuthConfig> LoadAuthConfig() {
  auto mode = ModeFromEnvironment();
  if (!mode.ok()) return mode.status();
  if (*mode == AuthMode::kDisabled) return AuthConfig{AuthMode::kDisabled, "", ""};
  return TokenOrError();
}

absl::StatusOr<AuthConfig> LoadAuthToken() { return TokenOrError(); }

std::string GenerateToken() {
  unsigned char bytes[32];
  size_t done = 0;
  while (done < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + done, sizeof(bytes) - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    done += static_cast<size_t>(n);
  }
  if (done < sizeof(bytes)) {  // no getrandom (ENOSYS): the same pool through its device
    FILE* urandom = std::fopen("/dev/urandom", "rbe");
    done = urandom ? std::fread(bytes, 1, sizeof(bytes), urandom) : 0;
    if (urandom) std::fclose(urandom);
    if (done != sizeof(bytes)) {
      std::fprintf(stderr, "moray: no source of random bytes (getrandom, /dev/urandom) for an "
                           "auth token\n");
      std::abort();
    }
  }
  return ToHex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string DefaultTokenPath() {
  const char* home = Getenv("HOME");
  std::string dir = home ? home : "";
  if (dir.empty()) {
    passwd entry;
    passwd* found = nullptr;
    char buf[4096];
    if (getpwuid_r(getuid(), &entry, buf, sizeof(buf), &found) == 0 && found && found->pw_dir) {
      dir = found->pw_dir;
    }
  }
  return dir + "/.ray/auth_token";
}

absl::StatusOr<AuthConfig> EnsureAuthToken(bool* created) {
  if (created) *created = false;
  auto mode = ModeFromEnvironment();
  if (!mode.ok()) return mode.status();
  if (*mode == AuthMode::kDisabled) return AuthConfig{AuthMode::kDisabled, "", ""};
  return EnsureAuthTokenFile(created);
}

absl::StatusOr<AuthConfig> EnsureAuthTokenFile(bool* created) {
  if (created) *created = false;
  auto found = FindToken();
  if (!found.ok()) return found.status();
  if (found->has_value()) return **found;
  const std::string path = DefaultTokenPath();
  const std::string dir = path.substr(0, path.rfind('/'));
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return WriteError("create the directory", dir, errno);
  }
  auto temporary = WriteTemporary(dir, GenerateToken());
  if (!temporary.ok()) return temporary.status();
  auto placed = PlaceWithoutReplacing(*temporary, path);
  if (!placed.ok()) return placed.status();
  if (created) *created = *placed;
  // Loaded back, so the result is what every later reader of the file gets.
  return TokenOrError();
}

bool TokensEqual(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    // Keeps the compiler from turning the loop into one that stops at the first difference.
    asm volatile("" : "+r"(diff));
  }
  return diff == 0;
}

void SetProcessAuth(AuthConfig config) {
  // The previous config is deliberately kept alive: a reference ProcessAuth() returned may still
  // be in use on another thread. Replacements are rare (one per ray::Init).
  g_process_auth.store(new AuthConfig(std::move(config)), std::memory_order_release);
}

const AuthConfig& ProcessAuth() {
  static const AuthConfig* const kUnset = new AuthConfig{AuthMode::kToken, "", ""};
  const AuthConfig* config = g_process_auth.load(std::memory_order_acquire);
  return config ? *config : *kUnset;
}

std::vector<std::pair<std::string, std::string>> AuthEnvironment(const AuthConfig& config) {
  std::vector<std::pair<std::string, std::string>> env = {
      {kModeVar, std::string(AuthModeName(config.mode))}};
  if (config.mode == AuthMode::kToken) env.emplace_back(kTokenVar, config.token);
  return env;
}

}  // namespace moray::rpc
