// StartHead / StartWorkerNode when a port cannot be used: one sentence, and nothing left behind (no
// process, no session directory) — whether the port is taken before the start or while the
// service starts (a fake service that loses the race to a socket this test binds meanwhile).
#include "common/head_launcher.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "common/session.h"
#include "gtest/gtest.h"
#include "tests/scoped_env.h"
#include "tests/test_env.h"

namespace moray {
namespace {
namespace fs = std::filesystem;
using moray::testing::ListeningSocket;
using moray::testing::PrivateTmpDir;
using moray::testing::ScopedEnv;

// Each test runs in a fresh root (MORAY_TMPDIR), so it sees only its own sessions.
class HeadLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(PrivateTmpDir::path()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(root_);
    setenv("MORAY_TMPDIR", root_.c_str(), 1);
  }
  void TearDown() override { setenv("MORAY_TMPDIR", PrivateTmpDir::path().c_str(), 1); }
  // Session directories (and the session_latest link) under the root.
  std::vector<std::string> Sessions() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(root_)) {
      std::string name = entry.path().filename();
      if (name.starts_with("session_")) names.push_back(name);
    }
    return names;
  }
  fs::path root_;
};

TEST_F(HeadLauncherTest, GcsPortInUseIsOneSentenceBeforeAnythingStarts) {
  ListeningSocket taken;
  ASSERT_TRUE(taken.listening());
  HeadOptions options;
  options.gcs_port = taken.port();
  auto head = StartHead(options);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(std::string(head.status().message()),
            "port " + std::to_string(taken.port()) +
                " on 127.0.0.1 is already in use by another process (choose another --port, 0 "
                "for any free port)");
  EXPECT_TRUE(Sessions().empty());

  // A cluster this machine recorded there gets the `moray stop` hint.
  ASSERT_TRUE(WriteCurrentCluster("127.0.0.1:" + std::to_string(taken.port())).ok());
  head = StartHead(options);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(std::string(head.status().message()),
            "port " + std::to_string(taken.port()) +
                " on 127.0.0.1 is already in use by the Moray cluster running there (`moray "
                "stop` ends it; or choose another --port, 0 for any free port)");
}

TEST_F(HeadLauncherTest, RayletPortInUseNamesItsOption) {
  ListeningSocket taken;
  ASSERT_TRUE(taken.listening());
  HeadOptions options;
  options.raylet_port = taken.port();
  const std::string expected = "port " + std::to_string(taken.port()) +
                               " on 127.0.0.1 is already in use by another process (choose "
                               "another --node-manager-port, 0 for any free port)";
  auto head = StartHead(options);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(std::string(head.status().message()), expected);
  auto node = StartWorkerNode(options, "127.0.0.1:1");
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(std::string(node.status().message()), expected);
  EXPECT_TRUE(Sessions().empty());
}

TEST_F(HeadLauncherTest, SamePortForBothServicesAndForeignAddressesAreRefused) {
  ListeningSocket free_port;  // a port number nobody else takes while this test holds it
  HeadOptions options;
  options.gcs_port = options.raylet_port = free_port.port();
  auto head = StartHead(options);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(std::string(head.status().message()),
            "--port and --node-manager-port must differ, not both be " +
                std::to_string(free_port.port()));

  options = HeadOptions{};
  options.node_ip = "192.0.2.1";  // TEST-NET-1: never an address of this machine
  head = StartHead(options);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(std::string(head.status().message()), "--node-ip-address 192.0.2.1 is not an address of this machine");
  EXPECT_TRUE(Sessions().empty());
}

// The GCS's bind loses a race: the port is free when StartHead checks it, and taken by the time
// the service binds. The fake `moray` waits on a FIFO, which this test writes only after taking the
// port, then exits as a GCS that could not listen does.
TEST_F(HeadLauncherTest, PortTakenWhileTheServiceStartsIsStillOneSentence) {
  const fs::path fifo = root_ / "go";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const fs::path fake = root_ / "fake_moray";
  {
    std::ofstream script(fake);
    script << "#!/bin/sh\nread line < '" << fifo.string() << "'\necho 'E0000 chttp2_server.cc] "
           << "UNKNOWN:No address added out of total 1 resolved' >&2\nexit 1\n";
  }
  fs::permissions(fake, fs::perms::owner_all);
  std::optional<ScopedEnv> fake_bin(std::in_place, "MORAY_BIN", fake.string());

  int port = ListeningSocket().port();  // free now
  std::unique_ptr<ListeningSocket> taken;
  std::thread racer([&] {
    std::ofstream go(fifo);  // opens once the fake service opens its end
    taken = std::make_unique<ListeningSocket>(port);
    go << "go" << std::endl;
  });
  HeadOptions options;
  options.gcs_port = port;
  auto head = StartHead(options);
  racer.join();
  fake_bin.reset();
  ASSERT_TRUE(taken->listening());
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(std::string(head.status().message()),
            "port " + std::to_string(port) +
                " on 127.0.0.1 is already in use by another process (choose another --port, 0 "
                "for any free port)");
  // The session made for the start is gone again, session_latest with it.
  EXPECT_TRUE(Sessions().empty()) << Sessions().front();
}

}  // namespace
}  // namespace moray
