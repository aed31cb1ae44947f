// A throwaway certificate authority and a node certificate signed by it, for tests of TLS
// (rpc/tls.h). Made with Debian's `openssl` command in a directory of the test's own.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace moray::rpc::testing {

struct TestCerts {
  std::string ca_cert;    // PEM paths
  std::string node_cert;
  std::string node_key;
};

// Creates `dir`/<prefix>-ca.pem, -node.pem, -node.key (EC P-256, valid for a day).
absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir, const std::string& prefix);

// Sets RAY_USE_TLS=1 and the three paths in this process's environment (children inherit them).
void UseTlsEnvironment(const TestCerts& certs);

}  // namespace moray::rpc::testing
