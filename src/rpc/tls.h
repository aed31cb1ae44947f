// Mutual TLS for the framed channel's TCP connections (optional; docs/wire.md). Off unless
// RAY_USE_TLS is 1/true; then every TCP connection a process makes or accepts runs TLS 1.2+,
// each side presenting RAY_TLS_SERVER_CERT / RAY_TLS_SERVER_KEY and requiring a peer certificate
// signed by RAY_TLS_CA_CERT (Ray's variables). Peers are verified by the CA, not by host name:
// cluster members reach each other by IP address. The handshake of rpc/handshake.h (token,
// version, role) runs inside the encrypted stream, as the first frame.
//
// Thread model: the context is built once per process, on first use, from the environment
// (which services and workers inherit from whoever started them), and then only read.
#pragma once

#include <string>

#include "absl/status/statusor.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace moray::rpc {

struct TlsConfig {
  bool enabled = false;
  std::string cert_path;  // RAY_TLS_SERVER_CERT: this process's certificate chain (PEM)
  std::string key_path;   // RAY_TLS_SERVER_KEY: its private key (PEM)
  std::string ca_path;    // RAY_TLS_CA_CERT: the CA every peer's certificate must chain to
};

// Reads RAY_USE_TLS and the three paths. InvalidArgument for a RAY_USE_TLS that is not a
// boolean, or TLS on with a path missing (naming the variable).
absl::StatusOr<TlsConfig> LoadTlsConfig();

// The process's TLS context: nullptr when TLS is off; an error naming the file when a
// certificate, key or CA cannot be loaded or the key does not match the certificate. Computed
// once (later calls return the same answer).
absl::StatusOr<SSL_CTX*> ProcessTlsContext();

}  // namespace moray::rpc
