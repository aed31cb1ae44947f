// A cluster of real separate hosts on this machine (issue 5): three network namespaces joined by
// veth pairs to a bridge, each with its own address; a head in the first, two nodes joining from
// the others, and a driver in the first. Needs root (CAP_NET_ADMIN) and `ip`; skipped with a
// message otherwise. Traffic never leaves the machine.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "rpc/testing/test_certs.h"
#include "tests/cluster/shipped_code_check.h"
#include "tests/test_env.h"

namespace {

using moray::testing::RunMoray;
using moray::testing::RunShell;

class NetnsCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "network namespaces need root; skipped";
    if (RunShell("ip netns list").exit_code != 0) GTEST_SKIP() << "no usable `ip netns`; skipped";
    // Names and subnet unique to this process, so concurrent runs never meet.
    tag_ = std::to_string(getpid() % 100000);
    subnet_ = "10.213." + std::to_string(getpid() % 250) + ".";
    std::string script = "set -e; ip link add br" + tag_ + " type bridge; ip addr add " +
                         subnet_ + "254/24 dev br" + tag_ + "; ip link set br" + tag_ + " up;";
    for (int i = 1; i <= 3; ++i) {
      std::string n = std::to_string(i);
      std::string ns = Ns(i), host = "v" + n + "_" + tag_, peer = "p" + n + "_" + tag_;
      script += "ip netns add " + ns + "; ip link add " + host + " type veth peer name " + peer +
                "; ip link set " + peer + " netns " + ns + "; ip link set " + host + " master br" +
                tag_ + "; ip link set " + host + " up; ip netns exec " + ns +
                " ip addr add " + subnet_ + n + "/24 dev " + peer + "; ip netns exec " + ns +
                " ip link set " + peer + " up; ip netns exec " + ns + " ip link set lo up;";
    }
    created_ = true;
    auto made = RunShell(script);
    if (made.exit_code != 0) GTEST_SKIP() << "cannot create network namespaces: " << made.err;
  }
  void TearDown() override {
    if (!created_) return;
    RunMoray({"stop"});
    std::string script = "ip link del br" + tag_ + " 2>/dev/null;";
    for (int i = 1; i <= 3; ++i) {
      script += "ip netns del " + Ns(i) + " 2>/dev/null; ip link del v" + std::to_string(i) + "_" +
                tag_ + " 2>/dev/null;";
    }
    RunShell(script);
  }
  std::string Ns(int i) const { return "mn" + std::to_string(i) + "_" + tag_; }
  std::string InNs(int i, const std::string& command) const {
    return "ip netns exec " + Ns(i) + " " + command;
  }
  std::string Moray() const {
    const char* bin = std::getenv("MORAY_BIN");
    return bin ? bin : "moray";
  }

  // Starts a head in namespace 1 and nodes joining it from 2 and 3 (auth on, as by default: the
  // head makes the token in this test's HOME and the others read it); the GCS address.
  // `hide_dir` (absolute) non-empty: the raylets of 2 and 3 run in a mount namespace of their own
  // (each `ip netns exec` makes one) where an empty tmpfs covers that directory, so nothing in it
  // exists for them or their workers. The mount goes when its last process does.
  std::string StartCluster(const std::string& hide_dir = "") {
    const std::string common = " --num-cpus=1 --object-store-memory=268435456";
    auto head = RunShell(InNs(1, Moray() + " start --head --port=0 --node-ip-address=" + subnet_ +
                                     "1 --node-name=ns1" + common));
    std::smatch m;
    if (!std::regex_search(head.out, m, std::regex("GCS address: (\\S+)"))) {
      ADD_FAILURE() << head.out << head.err;
      return "";
    }
    const std::string address = m[1];
    EXPECT_EQ(address.rfind(subnet_ + "1:", 0), 0u) << address;
    for (int i = 2; i <= 3; ++i) {
      std::string n = std::to_string(i);
      const std::string start = Moray() + " start --address=" + address +
                                " --node-ip-address=" + subnet_ + n + " --node-name=ns" + n +
                                common;
      auto joined =
          RunShell(hide_dir.empty() ? InNs(i, start)
                                    : InNs(i, "sh -c 'mount -t tmpfs -o size=1m,mode=0755 none " +
                                                  hide_dir + " && exec " + start + "'"));
      EXPECT_EQ(joined.exit_code, 0) << joined.out << joined.err;
    }
    return address;
  }
  // Every node listed, tasks pinned to each and spread over all, a 64 MiB transfer.
  void ExpectAWorkingCluster(const std::string& address) {
    auto nodes = RunShell(InNs(1, Moray() + " list nodes --address " + address));
    for (int i = 1; i <= 3; ++i) {
      EXPECT_NE(nodes.out.find(subnet_ + std::to_string(i)), std::string::npos) << nodes.out;
    }
    auto driver = RunShell(InNs(1, std::string(NETNS_DRIVER) + " " + address));
    for (int i = 1; i <= 3; ++i) {
      const std::string ip = subnet_ + std::to_string(i);
      EXPECT_NE(driver.out.find(ip + ":" + ip + ","), std::string::npos)
          << "a task pinned to " << ip << " ran there\n" << driver.out << driver.err;
    }
    EXPECT_NE(driver.out.find("ips=" + subnet_ + "1," + subnet_ + "2," + subnet_ + "3,"),
              std::string::npos)
        << driver.out << driver.err;
    EXPECT_NE(driver.out.find("transfer_ok"), std::string::npos) << driver.out << driver.err;
  }

  std::string tag_, subnet_;
  bool created_ = false;
};

TEST_F(NetnsCluster, HostsWithTheirOwnAddressesFormOneCluster) {
  const std::string address = StartCluster();
  ASSERT_FALSE(address.empty());
  ExpectAWorkingCluster(address);
}

// The same cluster with mutual TLS on every connection (certificates from a CA made here).
TEST_F(NetnsCluster, AClusterRunsOverMutualTls) {
  const std::string dir = ::testing::TempDir() + "/netns_tls_" + tag_;
  auto certs = moray::rpc::testing::MakeTestCerts(dir, "cluster");
  ASSERT_TRUE(certs.ok()) << certs.status();
  moray::rpc::testing::UseTlsEnvironment(*certs);  // every process started below inherits it
  const std::string address = StartCluster();
  ASSERT_FALSE(address.empty());
  ExpectAWorkingCluster(address);
  // A driver without TLS is refused: every member speaks only TLS now.
  auto plain = RunShell("env -u RAY_USE_TLS " + InNs(1, std::string(NETNS_DRIVER) + " " + address));
  EXPECT_NE(plain.exit_code, 0) << plain.out;
  EXPECT_EQ(plain.out.find("transfer_ok"), std::string::npos) << plain.out;
  RunMoray({"stop"});
  unsetenv("RAY_USE_TLS");
}

// A peer whose packets are dropped (nft in its namespace: SYNs go unanswered) does not freeze
// the loop that connects to it: the driver's calls to another node keep their latency while its
// I/O loop tries to reach an actor there.
TEST_F(NetnsCluster, APeerThatDropsPacketsDoesNotFreezeTheLoopThatConnectsToIt) {
  if (RunShell("command -v nft").exit_code != 0) GTEST_SKIP() << "no nft; skipped";
  const std::string address = StartCluster();
  ASSERT_FALSE(address.empty());
  const std::string rules = ::testing::TempDir() + "/drop_" + tag_ + ".nft";
  {
    std::ofstream out(rules);
    out << "table inet moray_drop {\n  chain input {\n    type filter hook input priority 0;\n"
           "    iifname != \"lo\" drop\n  }\n}\n";
  }
  const std::string drop = InNs(3, "nft -f " + rules);
  auto driver = RunShell(InNs(1, std::string(NETNS_DRIVER) + " " + address + " drop '" + drop +
                                     "'"));
  EXPECT_NE(driver.out.find("near_on=" + subnet_ + "2"), std::string::npos)
      << driver.out << driver.err;
  EXPECT_NE(driver.out.find("far_on=" + subnet_ + "3"), std::string::npos)
      << driver.out << driver.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(driver.out, m,
                                std::regex("near_calls=(\\d+) near_max_ms=(\\d+)")))
      << driver.out << driver.err;
  EXPECT_GE(std::stoi(m[1]), 5) << driver.out;
  // A connect blocking the loop would hold every call for its timeout (seconds); calls on a
  // loaded 2-core machine take milliseconds to a few hundred.
  EXPECT_LT(std::stoi(m[2]), 2500) << driver.out;
  EXPECT_EQ(driver.out.find("far=answered"), std::string::npos) << driver.out;
  std::printf("%s", driver.out.c_str());  // the numbers, for the log
}

// Nodes that really lack the driver's file: its directory is hidden from the raylets of ns2 and
// ns3 (an empty tmpfs over it in their mount namespace). Tasks and new actors on every node run
// the driver's code from the node's cache (where ns2 and ns3 got it is shipped_code_test's).
TEST_F(NetnsCluster, NodesWithoutTheDriversFileRunItsCodeFromTheirCache) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path("/tmp") / ("moray_shipped_" + tag_);
  fs::create_directories(dir);
  struct RemoveAtEnd {
    fs::path dir;
    ~RemoveAtEnd() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } remove_at_end{dir};
  const std::string driver_path = (dir / "shipped_code_driver").string();
  fs::copy_file(SHIPPED_CODE_DRIVER, driver_path, fs::copy_options::overwrite_existing);
  const std::string address = StartCluster(dir.string());
  ASSERT_FALSE(address.empty());
  auto driver = RunShell(InNs(1, driver_path + " " + address + " keep"));
  EXPECT_EQ(driver.exit_code, 0) << driver.out << driver.err;
  auto path_here = moray::testing::ExpectRanFromTheCache(driver.out, 3, driver_path);
  // Two nodes lacked the file, one (the driver's) had it.
  std::multiset<std::string> seen;
  for (const auto& [node, values] : path_here) seen.insert(values.begin(), values.end());
  EXPECT_EQ(seen, (std::multiset<std::string>{"0", "0", "1"})) << driver.out;
  std::printf("%s", driver.out.c_str());
}

}  // namespace
