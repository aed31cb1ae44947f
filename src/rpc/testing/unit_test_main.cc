// main() of unit-test binaries (moray_cc_test without DRIVER): every connection in them passes
// the channel's handshake as a production one does, with a token made for this process, as a
// driver. A test that plays another role (the GCS sending NODE_DIED) sets it before it connects.
#include "gtest/gtest.h"
#include "rpc/auth.h"
#include "rpc/handshake.h"

int main(int argc, char** argv) {
  moray::rpc::SetProcessAuth(
      {moray::rpc::AuthMode::kToken, moray::rpc::GenerateToken(), "unit test"});
  moray::rpc::SetProcessRole(moray::proto::ROLE_DRIVER);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
