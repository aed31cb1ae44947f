// PlacementGroupScheduler against scripted raylets in this process (real loopback connections of
// the framed channel): the two-phase commit, a refused prepare undone and retried, an infeasible
// group placed when a node joins, removal, and bundles of a dead node placed again.
#include "gcs/placement_group_scheduler.h"

#include <map>
#include <memory>
#include <mutex>

#include "common/testing/named_ids.h"
#include "gcs/actor_manager.h"
#include "gcs/gcs_table_storage.h"
#include "gcs/job_manager.h"
#include "gcs/node_manager.h"
#include "gtest/gtest.h"
#include "rpc/testing/fake_server.h"

namespace moray::gcs {
namespace {

using rpc::testing::FakeServer;
using rpc::testing::OnLoop;
using rpc::testing::WaitUntil;

// A raylet that only knows bundles: `cpus` CPUs, prepares all-or-nothing (idempotent per bundle),
// and can be told to refuse every prepare.
class BundleRaylet {
 public:
  BundleRaylet(rpc::EventLoop* loop, double cpus) : free_(cpus), total_(cpus) {
    auto handler = [this](uint16_t method) {
      return [this, method](const rpc::Peer&, const proto::BundlesRequest& request,
                            proto::BundlesReply* reply) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++calls_[method];
        absl::Status status = Apply(method, request);
        (*reply->mutable_resources_total())["CPU"] = total_;
        (*reply->mutable_resources_available())["CPU"] = free_;
        return status;
      };
    };
    for (auto method : {proto::RAYLET_PREPARE_BUNDLES, proto::RAYLET_COMMIT_BUNDLES,
                        proto::RAYLET_RETURN_BUNDLES}) {
      service_.Sync<proto::BundlesRequest, proto::BundlesReply>(method, rpc::kAnyMember,
                                                                handler(method));
    }
    server_ = std::make_unique<FakeServer>(loop, &service_);
  }
  int port() const { return server_->port(); }
  void set_refuse(bool refuse) {
    std::lock_guard<std::mutex> lock(mutex_);
    refuse_ = refuse;
  }
  int held() const {  // bundles prepared or committed here
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(held_.size());
  }
  int committed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    int n = 0;
    for (const auto& [key, c] : held_) n += c ? 1 : 0;
    return n;
  }
  int calls(uint16_t method) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = calls_.find(method);
    return it == calls_.end() ? 0 : it->second;
  }
  double free() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return free_;
  }

 private:
  absl::Status Apply(uint16_t method, const proto::BundlesRequest& request) {
    const std::string& group = request.placement_group_id();
    if (method == proto::RAYLET_PREPARE_BUNDLES) {
      if (refuse_) return absl::ResourceExhaustedError("told to refuse");
      double needed = 0;
      for (const auto& b : request.bundles()) {
        if (!held_.contains({group, b.index()})) needed += b.resources().at("CPU");
      }
      if (needed > free_) return absl::ResourceExhaustedError("no room");
      free_ -= needed;
      for (const auto& b : request.bundles()) held_.try_emplace({group, b.index()}, false);
      return absl::OkStatus();
    }
    if (method == proto::RAYLET_COMMIT_BUNDLES) {
      for (const auto& b : request.bundles()) {
        auto it = held_.find({group, b.index()});
        if (it == held_.end()) return absl::FailedPreconditionError("not prepared");
        it->second = true;
      }
      return absl::OkStatus();
    }
    for (auto it = held_.begin(); it != held_.end();) {  // RETURN
      bool named = request.group_removed();
      for (const auto& b : request.bundles()) named |= it->first.second == b.index();
      if (it->first.first == group && named) {
        free_ += bundle_cpus_;
        it = held_.erase(it);
      } else {
        ++it;
      }
    }
    return absl::OkStatus();
  }

  rpc::Service service_{"bundle raylet"};
  mutable std::mutex mutex_;
  double free_, total_;
  const double bundle_cpus_ = 1;  // the tests' bundles are {CPU: 1}
  bool refuse_ = false;
  std::map<std::pair<std::string, int>, bool> held_;  // (group, index) -> committed
  std::map<uint16_t, int> calls_;
  std::unique_ptr<FakeServer> server_;  // last: stops dispatching first
};

class PlacementGroupSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fakes_.StartThread("fakes");
    loop_.StartThread("gcs_actors");
    OnLoop(&loop_, [&] {
      pool_ = std::make_unique<rpc::ConnectionPool>(&loop_, &pool_service_);
      actor_scheduler_ =
          std::make_unique<ActorScheduler>(&loop_, pool_.get(), &actors_, &nodes_, &jobs_);
      scheduler_ = std::make_unique<PlacementGroupScheduler>(
          &loop_, pool_.get(), &groups_, &nodes_, actor_scheduler_.get(),
          PlacementGroupSchedulerOptions{.min_backoff = absl::Milliseconds(20),
                                         .max_backoff = absl::Milliseconds(100)});
    });
  }
  void TearDown() override {
    OnLoop(&loop_, [&] {
      scheduler_->Shutdown();
      actor_scheduler_->Shutdown();
      scheduler_.reset();
      actor_scheduler_.reset();
      pool_.reset();
    });
    loop_.Stop();
    fakes_.Stop();
  }
  NodeId AddNode(std::string_view name, const BundleRaylet& raylet, double cpus) {
    proto::NodeInfo node;
    const NodeId id = moray::testing::NamedId<NodeId>(name);
    node.set_node_id(id.Binary());
    node.set_node_ip("127.0.0.1");
    node.set_raylet_port(raylet.port());
    (*node.mutable_resources_total())["CPU"] = cpus;
    EXPECT_TRUE(nodes_.RegisterNode(node).ok());
    return id;
  }
  PlacementGroupId Create(int bundles, proto::PlacementStrategy strategy) {
    proto::PlacementGroupInfo info;
    const PlacementGroupId id = NewPlacementGroupId(JobIdFromInt(1));
    info.set_placement_group_id(id.Binary());
    info.set_strategy(strategy);
    for (int i = 0; i < bundles; ++i) (*info.add_bundles()->mutable_resources())["CPU"] = 1;
    EXPECT_TRUE(groups_.Register(info).ok());
    OnLoop(&loop_, [&] { scheduler_->Schedule(id); });
    return id;
  }
  proto::PlacementGroupInfo Group(const PlacementGroupId& id) { return *groups_.Get(id); }
  bool StateIs(const PlacementGroupId& id, proto::PlacementGroupState state) {
    return Group(id).state() == state;
  }

  rpc::EventLoop fakes_;
  rpc::EventLoop loop_;
  InMemoryTableStorage storage_;
  NodeManager nodes_{&storage_};
  JobManager jobs_{&storage_};
  ActorManager actors_{&storage_};
  PlacementGroupManager groups_{&storage_};
  rpc::Service pool_service_{"gcs pool"};
  std::unique_ptr<rpc::ConnectionPool> pool_;
  std::unique_ptr<ActorScheduler> actor_scheduler_;
  std::unique_ptr<PlacementGroupScheduler> scheduler_;
};

TEST_F(PlacementGroupSchedulerTest, StrictSpreadIsPreparedThenCommittedOnDistinctNodes) {
  BundleRaylet a(&fakes_, 2), b(&fakes_, 2);
  const NodeId na = AddNode("A", a, 2);
  const NodeId nb = AddNode("B", b, 2);
  const PlacementGroupId id = Create(2, proto::STRICT_SPREAD);
  ASSERT_TRUE(WaitUntil([&] { return StateIs(id, proto::PG_CREATED); })) << Group(id).DebugString();
  EXPECT_EQ(a.committed(), 1);
  EXPECT_EQ(b.committed(), 1);
  std::set<std::string> nodes;
  const proto::PlacementGroupInfo group = Group(id);
  for (const auto& bundle : group.bundles()) nodes.insert(bundle.node_id());
  EXPECT_EQ(nodes, (std::set<std::string>{na.Binary(), nb.Binary()}));
  EXPECT_GT(Group(id).created_time_ms(), 0);
  // The GCS's view took the raylets' replies: one CPU left on each.
  const scheduling::ClusterView view = nodes_.ResourceView(/*with_group_scoped=*/false);
  ASSERT_EQ(view.nodes().size(), 2u);
  for (const auto& [id, node] : view.nodes()) {
    EXPECT_EQ(node.available.Get("CPU"), 1) << node.available.DebugString();
    EXPECT_EQ(node.total.Get("CPU"), 2) << node.total.DebugString();
  }
}

TEST_F(PlacementGroupSchedulerTest, ARefusedPrepareIsUndoneAndRetried) {
  BundleRaylet a(&fakes_, 2), b(&fakes_, 2);
  AddNode("A", a, 2);
  AddNode("B", b, 2);
  b.set_refuse(true);  // the view says it has room; the raylet knows better
  const PlacementGroupId id = Create(2, proto::STRICT_SPREAD);
  ASSERT_TRUE(WaitUntil([&] { return a.calls(proto::RAYLET_RETURN_BUNDLES) > 0; }));
  ASSERT_TRUE(WaitUntil([&] { return a.held() == 0 && Group(id).scheduling_attempts() >= 2; }));
  EXPECT_EQ(Group(id).state(), proto::PG_PENDING);
  EXPECT_NE(Group(id).state_message().find("told to refuse"), std::string::npos)
      << Group(id).DebugString();
  b.set_refuse(false);
  ASSERT_TRUE(WaitUntil([&] { return StateIs(id, proto::PG_CREATED); })) << Group(id).DebugString();
  EXPECT_EQ(a.held(), 1);
  EXPECT_EQ(b.held(), 1);
}

TEST_F(PlacementGroupSchedulerTest, AnInfeasibleGroupWaitsUntilANodeJoins) {
  BundleRaylet a(&fakes_, 2), b(&fakes_, 2), c(&fakes_, 2);
  AddNode("A", a, 2);
  AddNode("B", b, 2);
  const PlacementGroupId id = Create(3, proto::STRICT_SPREAD);
  ASSERT_TRUE(WaitUntil([&] { return Group(id).infeasible(); })) << Group(id).DebugString();
  EXPECT_EQ(Group(id).state(), proto::PG_PENDING);
  EXPECT_NE(Group(id).state_message().find("infeasible: STRICT_SPREAD of 3 bundles"),
            std::string::npos);
  EXPECT_EQ(a.calls(proto::RAYLET_PREPARE_BUNDLES), 0) << "nothing is reserved for it";
  AddNode("C", c, 2);
  OnLoop(&loop_, [&] { scheduler_->RetryPending(); });
  ASSERT_TRUE(WaitUntil([&] { return StateIs(id, proto::PG_CREATED); })) << Group(id).DebugString();
  EXPECT_EQ(a.committed() + b.committed() + c.committed(), 3);
  EXPECT_FALSE(Group(id).infeasible());
}

TEST_F(PlacementGroupSchedulerTest, RemovalReturnsEveryBundleAndIsFinal) {
  BundleRaylet a(&fakes_, 4);
  AddNode("A", a, 4);
  const PlacementGroupId id = Create(2, proto::PACK);
  ASSERT_TRUE(WaitUntil([&] { return StateIs(id, proto::PG_CREATED); }));
  ASSERT_TRUE(groups_.MarkRemoved(id, "removed by the test").ok());
  OnLoop(&loop_, [&] { scheduler_->Remove(id, "removed by the test"); });
  ASSERT_TRUE(WaitUntil([&] { return a.held() == 0; }));
  EXPECT_EQ(a.free(), 4);
  EXPECT_EQ(Group(id).state(), proto::PG_REMOVED);
  EXPECT_FALSE(groups_.Update(Group(id)).ok()) << "REMOVED is final";
}

TEST_F(PlacementGroupSchedulerTest, BundlesOfADeadNodeArePlacedAgain) {
  BundleRaylet a(&fakes_, 1), b(&fakes_, 1), c(&fakes_, 1);
  const NodeId na = AddNode("A", a, 1);
  AddNode("B", b, 1);
  const PlacementGroupId id = Create(2, proto::STRICT_SPREAD);
  ASSERT_TRUE(WaitUntil([&] { return StateIs(id, proto::PG_CREATED); }));
  AddNode("C", c, 1);
  ASSERT_TRUE(nodes_.UnregisterNode(na, "killed by the test").ok());
  OnLoop(&loop_, [&] { scheduler_->OnNodeDead(na); });
  ASSERT_TRUE(WaitUntil([&] { return StateIs(id, proto::PG_CREATED); })) << Group(id).DebugString();
  EXPECT_EQ(b.committed(), 1);
  EXPECT_EQ(c.committed(), 1) << "the lost bundle moved to the node that joined";
  const proto::PlacementGroupInfo group = Group(id);
  for (const auto& bundle : group.bundles()) EXPECT_NE(bundle.node_id(), na.Binary());
}

}  // namespace
}  // namespace moray::gcs
