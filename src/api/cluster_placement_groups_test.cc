// ClusterPlacementGroups and GcsClient's placement-group calls against a scripted GCS on
// loopback: what a created group carries, how the answers (found, not found, taken name,
// removed, a Wait the GCS never answers) reach the public API.
#include "api/cluster_placement_groups.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ray/api/ray_exception.h"
#include "rpc/service.h"
#include "rpc/testing/fake_server.h"

namespace moray::api {
namespace {

using ::testing::HasSubstr;

// A GCS that keeps placement groups in a table and answers at once (Wait too, unless told to
// stay silent). Runs on its loop's thread; the accessors lock.
class FakeGcs {
 public:
  explicit FakeGcs(rpc::EventLoop* loop) : service_("fake gcs") {
    service_.Sync<proto::GetAllNodesRequest, proto::GetAllNodesReply>(
        proto::GET_ALL_NODES, rpc::kAnyMember,
        [](const rpc::Peer&, const proto::GetAllNodesRequest&, proto::GetAllNodesReply*) {
          return absl::OkStatus();
        });
    service_.Sync<proto::CreatePlacementGroupRequest, proto::CreatePlacementGroupReply>(
        proto::CREATE_PLACEMENT_GROUP, rpc::kAnyMember,
        [this](const rpc::Peer&, const proto::CreatePlacementGroupRequest& request,
               proto::CreatePlacementGroupReply* reply) {
          absl::MutexLock lock(&mu_);
          const auto& group = request.group();
          for (const auto& [id, known] : groups_) {
            if (!group.name().empty() && known.name() == group.name() &&
                known.ray_namespace() == group.ray_namespace() &&
                known.state() != proto::PG_REMOVED) {
              return absl::AlreadyExistsError("placement group name '" + group.name() +
                                              "' is taken");
            }
          }
          order_.push_back(group.placement_group_id());
          groups_[group.placement_group_id()] = group;
          *reply->mutable_group() = group;
          return absl::OkStatus();
        });
    service_.Sync<proto::RemovePlacementGroupRequest, proto::RemovePlacementGroupReply>(
        proto::REMOVE_PLACEMENT_GROUP, rpc::kAnyMember,
        [this](const rpc::Peer&, const proto::RemovePlacementGroupRequest& request,
               proto::RemovePlacementGroupReply*) {
          absl::MutexLock lock(&mu_);
          auto it = groups_.find(request.placement_group_id());
          if (it == groups_.end()) return absl::NotFoundError("no such placement group");
          it->second.set_state(proto::PG_REMOVED);
          return absl::OkStatus();
        });
    service_.Sync<proto::GetPlacementGroupRequest, proto::GetPlacementGroupReply>(
        proto::GET_PLACEMENT_GROUP, rpc::kAnyMember,
        [this](const rpc::Peer&, const proto::GetPlacementGroupRequest& request,
               proto::GetPlacementGroupReply* reply) {
          absl::MutexLock lock(&mu_);
          for (const auto& [id, group] : groups_) {
            bool match = request.placement_group_id().empty()
                             ? group.name() == request.name() &&
                                   group.ray_namespace() == request.ray_namespace() &&
                                   group.state() != proto::PG_REMOVED
                             : id == request.placement_group_id();
            if (match) {
              *reply->mutable_group() = group;
              return absl::OkStatus();
            }
          }
          return absl::NotFoundError("no such placement group");
        });
    service_.Sync<proto::GetPlacementGroupsRequest, proto::GetPlacementGroupsReply>(
        proto::GET_PLACEMENT_GROUPS, rpc::kAnyMember,
        [this](const rpc::Peer&, const proto::GetPlacementGroupsRequest&,
               proto::GetPlacementGroupsReply* reply) {
          absl::MutexLock lock(&mu_);
          for (const auto& id : order_) *reply->add_groups() = groups_.at(id);
          reply->set_total(static_cast<int64_t>(order_.size()));
          return absl::OkStatus();
        });
    service_.Unary<proto::WaitPlacementGroupRequest, proto::WaitPlacementGroupReply>(
        proto::WAIT_PLACEMENT_GROUP, rpc::kAnyMember,
        [this](const rpc::Peer&, proto::WaitPlacementGroupRequest&& request,
               rpc::Responder<proto::WaitPlacementGroupReply> respond) {
          absl::MutexLock lock(&mu_);
          wait_timeouts_ms_.push_back(request.timeout_ms());
          if (silent_wait_) return;  // never answers
          auto it = groups_.find(request.placement_group_id());
          if (it == groups_.end()) {
            respond.Fail(absl::NotFoundError("no such placement group"));
            return;
          }
          proto::WaitPlacementGroupReply reply;
          reply.set_ready(it->second.state() == proto::PG_CREATED);
          *reply.mutable_group() = it->second;
          respond(reply);
        });
    server_ = std::make_unique<rpc::testing::FakeServer>(loop, &service_);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  void MarkCreated(const std::string& binary_id) {
    absl::MutexLock lock(&mu_);
    groups_.at(binary_id).set_state(proto::PG_CREATED);
  }
  void set_silent_wait(bool silent) {
    absl::MutexLock lock(&mu_);
    silent_wait_ = silent;
  }
  std::vector<int64_t> wait_timeouts_ms() {
    absl::MutexLock lock(&mu_);
    return wait_timeouts_ms_;
  }
  proto::PlacementGroupInfo group(const std::string& binary_id) {
    absl::MutexLock lock(&mu_);
    return groups_.at(binary_id);
  }

 private:
  rpc::Service service_;
  absl::Mutex mu_;
  std::map<std::string, proto::PlacementGroupInfo> groups_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> order_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> wait_timeouts_ms_ ABSL_GUARDED_BY(mu_);
  bool silent_wait_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<rpc::testing::FakeServer> server_;  // last: stops before the rest goes
};

std::string BinaryOf(const std::string& hex) {
  return PlacementGroupId::FromHex(hex).value_or(PlacementGroupId()).Binary();
}

class ClusterPlacementGroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_.StartThread("fake_gcs");
    gcs_ = std::make_unique<FakeGcs>(&loop_);
    auto client = gcs::GcsClient::Connect(gcs_->address(), absl::Seconds(5));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    groups_ = std::make_unique<ClusterPlacementGroups>(
        [this]() -> gcs::GcsClient& { return *client_; }, job_id_, "job_ns");
  }
  void TearDown() override {
    groups_.reset();
    client_.reset();
    gcs_.reset();
    loop_.Stop();
  }

  static std::string ErrorOf(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const ray::internal::RayException& e) {
      return e.what();
    }
    return "no error";
  }

  const JobId job_id_ = JobIdFromInt(7);
  rpc::EventLoop loop_;
  std::unique_ptr<FakeGcs> gcs_;
  std::unique_ptr<gcs::GcsClient> client_;
  std::unique_ptr<ClusterPlacementGroups> groups_;
};

TEST_F(ClusterPlacementGroupsTest, CreateSendsTheGroupWithAnIdOfTheJob) {
  ray::PlacementGroupCreationOptions options{
      "pg", {{{"CPU", 1}}, {{"CPU", 2}, {"GPU", 1}}}, ray::PlacementStrategy::STRICT_SPREAD};
  options.detached = true;
  const int64_t before_ms = absl::ToUnixMillis(absl::Now());
  ray::PlacementGroup pg = groups_->Create(options);
  EXPECT_EQ(pg.GetState(), ray::PENDING);
  EXPECT_EQ(pg.GetName(), "pg");
  EXPECT_EQ(pg.GetNamespace(), "job_ns");  // the job's, as none was given
  EXPECT_EQ(pg.GetBundles(), options.bundles);
  EXPECT_EQ(pg.GetStrategy(), ray::PlacementStrategy::STRICT_SPREAD);
  EXPECT_TRUE(pg.IsDetached());

  const proto::PlacementGroupInfo sent = gcs_->group(BinaryOf(pg.GetID()));
  const PlacementGroupId id = PlacementGroupId::FromBinary(sent.placement_group_id());
  EXPECT_EQ(JobIdOf(id), job_id_);
  EXPECT_EQ(JobId::FromBinary(sent.creator_job_id()), job_id_);
  EXPECT_EQ(sent.strategy(), proto::STRICT_SPREAD);
  EXPECT_EQ(sent.state(), proto::PG_PENDING);
  EXPECT_TRUE(sent.is_detached());
  EXPECT_EQ(sent.ray_namespace(), "job_ns");
  EXPECT_GE(sent.create_time_ms(), before_ms);
  ASSERT_EQ(sent.bundles_size(), 2);
  EXPECT_EQ(sent.bundles(1).index(), 1);
  EXPECT_EQ(sent.bundles(1).resources().at("GPU"), 1);
}

TEST_F(ClusterPlacementGroupsTest, ATakenNameThrowsTheGcsReason) {
  groups_->Create({"dup", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK});
  EXPECT_THAT(ErrorOf([&] {
                groups_->Create({"dup", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK});
              }),
              HasSubstr("CreatePlacementGroup: the name 'dup' is already taken in namespace "
                        "'job_ns' (GCS CreatePlacementGroup at "));
  ray::PlacementGroupCreationOptions elsewhere{"dup", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK};
  elsewhere.ray_namespace = "other";
  EXPECT_EQ(groups_->Create(elsewhere).GetNamespace(), "other");
}

TEST_F(ClusterPlacementGroupsTest, ReadsFindGroupsOrAnswerEmpty) {
  ray::PlacementGroup a = groups_->Create({"a", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK});
  ray::PlacementGroup b = groups_->Create({"", {{{"GPU", 1}}}, ray::PlacementStrategy::SPREAD});
  EXPECT_EQ(groups_->GetById(a.GetID()).GetName(), "a");
  EXPECT_EQ(groups_->GetById(b.GetID()).GetBundles(), b.GetBundles());
  EXPECT_EQ(groups_->GetByName("a", "").GetID(), a.GetID());
  EXPECT_EQ(groups_->GetByName("a", "job_ns").GetID(), a.GetID());
  EXPECT_TRUE(groups_->GetByName("a", "other").Empty());
  EXPECT_TRUE(groups_->GetByName("missing", "").Empty());
  EXPECT_TRUE(groups_->GetById(NewPlacementGroupId(job_id_).Hex()).Empty());
  std::vector<std::string> ids;
  for (const auto& pg : groups_->GetAll()) ids.push_back(pg.GetID());
  EXPECT_EQ(ids, (std::vector<std::string>{a.GetID(), b.GetID()}));
}

TEST_F(ClusterPlacementGroupsTest, RemoveIsIdempotentAndRemembered) {
  ray::PlacementGroup pg = groups_->Create({"r", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK});
  EXPECT_FALSE(groups_->IsRemoved(pg.GetID()));
  groups_->Remove(pg.GetID());
  groups_->Remove(pg.GetID());
  groups_->Remove(NewPlacementGroupId(job_id_).Hex());  // unknown to the GCS: harmless
  EXPECT_TRUE(groups_->IsRemoved(pg.GetID()));
  EXPECT_EQ(groups_->GetById(pg.GetID()).GetState(), ray::REMOVED);
  EXPECT_EQ(groups_->Wait(pg.GetID(), 5), ray::REMOVED);
}

TEST_F(ClusterPlacementGroupsTest, WaitAsksTheTimeoutAndReportsTheState) {
  ray::PlacementGroup pg = groups_->Create({"", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK});
  EXPECT_EQ(groups_->Wait(pg.GetID(), 0), ray::PENDING);
  gcs_->MarkCreated(BinaryOf(pg.GetID()));
  EXPECT_EQ(groups_->Wait(pg.GetID(), 30), ray::CREATED);
  EXPECT_EQ(gcs_->wait_timeouts_ms(), (std::vector<int64_t>{0, 30000}));
  EXPECT_THAT(ErrorOf([&] { groups_->Wait(NewPlacementGroupId(job_id_).Hex(), 1); }),
              HasSubstr("there is no placement group"));
}

TEST_F(ClusterPlacementGroupsTest, WaitDoesNotOutliveItsTimeoutWhenTheGcsIsSilent) {
  ray::PlacementGroup pg = groups_->Create({"", {{{"CPU", 1}}}, ray::PlacementStrategy::PACK});
  gcs_->set_silent_wait(true);
  const absl::Time start = absl::Now();
  EXPECT_EQ(groups_->Wait(pg.GetID(), 1), ray::UNRECOGNIZED);
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Seconds(1));
  EXPECT_LT(took, absl::Seconds(1) + gcs::GcsClient::kWaitSlack + absl::Milliseconds(500));
}

TEST(PlacementGroupFromProtoTest, BundlesGoByTheirIndex) {
  proto::PlacementGroupInfo info;
  const PlacementGroupId id = NewPlacementGroupId(JobIdFromInt(1));
  info.set_placement_group_id(id.Binary());
  info.set_state(proto::PG_RESCHEDULING);
  info.set_strategy(proto::STRICT_PACK);
  auto* second = info.add_bundles();
  second->set_index(1);
  (*second->mutable_resources())["GPU"] = 1;
  auto* first = info.add_bundles();
  first->set_index(0);
  (*first->mutable_resources())["CPU"] = 2;
  ray::PlacementGroup pg = PlacementGroupFromProto(info);
  EXPECT_EQ(pg.GetID(), id.Hex());
  EXPECT_EQ(pg.GetState(), ray::RESCHEDULING);
  EXPECT_EQ(pg.GetStrategy(), ray::PlacementStrategy::STRICT_PACK);
  ASSERT_EQ(pg.GetBundles().size(), 2u);
  EXPECT_EQ(pg.GetBundles()[0].at("CPU"), 2);
  EXPECT_EQ(pg.GetBundles()[1].at("GPU"), 1);
}

}  // namespace
}  // namespace moray::api
