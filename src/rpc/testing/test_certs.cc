#include "rpc/testing/test_certs.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace moray::rpc::testing {
namespace {
absl::Status Run(const std::string& command) {
  const std::string quiet = absl::StrCat(command, " >/dev/null 2>&1");
  if (std::system(quiet.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", command));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir, const std::string& prefix) {
  std::filesystem::create_directories(dir);
  const std::string base = absl::StrCat(dir, "/", prefix);
  TestCerts certs{base + "-ca.pem", base + "-node.pem", base + "-node.key"};
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  for (const std::string& command : {
           absl::StrCat("openssl req -x509 ", ec, " -keyout ", base, "-ca.key -out ",
                        certs.ca_cert, " -days 1 -subj /CN=moray-test-ca-", prefix),
           absl::StrCat("openssl req ", ec, " -keyout ", certs.node_key, " -out ", base,
                        "-node.csr -subj /CN=moray-test-node-", prefix),
           absl::StrCat("openssl x509 -req -in ", base, "-node.csr -CA ", certs.ca_cert,
                        " -CAkey ", base, "-ca.key -CAcreateserial -out ", certs.node_cert,
                        " -days 1"),
       }) {
    if (absl::Status s = Run(command); !s.ok()) return s;
  }
  return certs;
}

void UseTlsEnvironment(const TestCerts& certs) {
  setenv("RAY_USE_TLS", "1", 1);
  setenv("RAY_TLS_SERVER_CERT", certs.node_cert.c_str(), 1);
  setenv("RAY_TLS_SERVER_KEY", certs.node_key.c_str(), 1);
  setenv("RAY_TLS_CA_CERT", certs.ca_cert.c_str(), 1);
}

}  // namespace moray::rpc::testing
