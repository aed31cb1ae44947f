#include "rpc/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <csignal>
#include <cstdlib>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace moray::rpc {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The last OpenSSL error as text (and the queue cleared).
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

absl::StatusOr<SSL_CTX*> BuildContext(const TlsConfig& config) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (ctx == nullptr) return absl::InternalError("cannot create a TLS context: " + OpenSslError());
  auto fail = [ctx](const std::string& what) -> absl::Status {
    SSL_CTX_free(ctx);
    return absl::InvalidArgumentError(absl::StrCat("TLS is on (RAY_USE_TLS) but ", what));
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, config.cert_path.c_str()) != 1) {
    return fail(absl::StrCat("the certificate RAY_TLS_SERVER_CERT=", config.cert_path,
                             " cannot be loaded: ", OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, config.key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail(absl::StrCat("the key RAY_TLS_SERVER_KEY=", config.key_path,
                             " cannot be loaded: ", OpenSslError()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return fail(absl::StrCat("the key ", config.key_path, " does not match the certificate ",
                             config.cert_path));
  }
  if (SSL_CTX_load_verify_locations(ctx, config.ca_path.c_str(), nullptr) != 1) {
    return fail(absl::StrCat("the CA RAY_TLS_CA_CERT=", config.ca_path,
                             " cannot be loaded: ", OpenSslError()));
  }
  // Mutual: an accepting side demands a certificate too.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // Writes resume from a buffer that may have moved (the channel swaps its buffers).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

}  // namespace

absl::StatusOr<TlsConfig> LoadTlsConfig() {
  TlsConfig config;
  const std::string use = absl::AsciiStrToLower(Env("RAY_USE_TLS"));
  if (use.empty() || use == "0" || use == "false") return config;
  if (use != "1" && use != "true") {
    return absl::InvalidArgumentError(
        absl::StrCat("RAY_USE_TLS must be 1, true, 0 or false, not '", Env("RAY_USE_TLS"), "'"));
  }
  config.enabled = true;
  config.cert_path = Env("RAY_TLS_SERVER_CERT");
  config.key_path = Env("RAY_TLS_SERVER_KEY");
  config.ca_path = Env("RAY_TLS_CA_CERT");
  for (const auto& [name, value] : {std::pair{"RAY_TLS_SERVER_CERT", config.cert_path},
                                    std::pair{"RAY_TLS_SERVER_KEY", config.key_path},
                                    std::pair{"RAY_TLS_CA_CERT", config.ca_path}}) {
    if (value.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("RAY_USE_TLS is on but ", name, " is not set"));
    }
  }
  return config;
}

absl::StatusOr<SSL_CTX*> ProcessTlsContext() {
  static std::once_flag once;
  static absl::StatusOr<SSL_CTX*>* context = nullptr;
  std::call_once(once, [] {
    absl::StatusOr<TlsConfig> config = LoadTlsConfig();
    if (!config.ok()) {
      context = new absl::StatusOr<SSL_CTX*>(config.status());
    } else if (!config->enabled) {
      context = new absl::StatusOr<SSL_CTX*>(nullptr);
    } else {
      context = new absl::StatusOr<SSL_CTX*>(BuildContext(*config));
      // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a peer that went away must be an
      // error the channel handles, not a SIGPIPE that kills the process.
      signal(SIGPIPE, SIG_IGN);
    }
  });
  return *context;
}

}  // namespace moray::rpc
