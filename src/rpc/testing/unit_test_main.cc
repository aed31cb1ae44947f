// main() of unit-test binaries (moray_cc_test without DRIVER): every connection in them passes
// the channel's handshake as a production one does, with a token made for this process. A test
// that plays another role (the GCS sending NODE_DIED) sets its identity before it connects.
#include <random>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "rpc/handshake.h"

int main(int argc, char** argv) {
  std::random_device random;
  std::string token;
  for (int i = 0; i < 8; ++i) token += absl::StrFormat("%08x", random());
  moray::rpc::SetLocalIdentity({.role = moray::proto::ROLE_DRIVER, .token = token,
                                .require_token = true});
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
