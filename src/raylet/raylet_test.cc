// The raylet in-process with a fake GCS, driven over the real framed channel by a test "driver",
// with real worker processes (testing/fake_worker_main.cc) that register back.
#include "raylet/raylet.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/id.h"
#include "gtest/gtest.h"
#include "rpc/auth.h"
#include "raylet.pb.h"
#include "transfer.pb.h"
#include "worker.pb.h"
#include "object_store/store_client.h"
#include "raylet/fake_gcs_accessor.h"
#include "rpc/channel.h"
#include "rpc/event_loop.h"
#include "rpc/service.h"

namespace moray::raylet {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(20);

// Polls `condition` until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout = kTimeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

// A driver (or any core worker) talking to the raylet.
class TestClient {
 public:
  TestClient(rpc::EventLoop* loop, int port) {
    auto conn = rpc::Connection::Connect(loop, "127.0.0.1", port, absl::Seconds(5));
    EXPECT_TRUE(conn.ok()) << conn.status();
    conn_ = *conn;
    conn_->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                       [](const std::shared_ptr<rpc::Connection>&) {});
  }
  ~TestClient() { conn_->Close(); }

  proto::RegisterClientReply RegisterDriver(const proto::JobInfo& job) {
    proto::RegisterClientRequest request;
    request.set_is_driver(true);
    request.set_worker_id(WorkerId::FromRandom().Binary());
    request.set_pid(getpid());
    *request.mutable_job() = job;
    proto::RegisterClientReply reply;
    absl::Notification done;
    conn_->Call(proto::RAYLET_REGISTER_CLIENT, request, [&](absl::Status status, rpc::Frame&& frame) {
      EXPECT_TRUE(status.ok()) << status;
      EXPECT_TRUE(frame.ParseBody(&reply).ok());
      done.Notify();
    });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(kTimeout));
    job_id_ = reply.job_id();
    return reply;
  }

  // Leases for `job` without registering a driver here, as the owner of a spilled-back task
  // does: each request carries the job's info.
  void LeaseAs(const proto::JobInfo& job) {
    job_id_ = job.job_id();
    job_info_ = job;
  }

  // `job`: the job's info, as a spillback retry carries it (else the LeaseAs job's, if any).
  void RequestLease(int64_t lease_id, const std::map<std::string, double>& resources,
                    const proto::JobInfo* job = nullptr) {
    proto::RequestWorkerLeaseRequest request;
    request.set_lease_id(lease_id);
    request.set_job_id(job_id_);
    if (job != nullptr) {
      *request.mutable_job() = *job;
      request.mutable_job()->set_job_id(job_id_);
    } else if (job_info_) {
      *request.mutable_job() = *job_info_;
    }
    for (const auto& [name, value] : resources) (*request.mutable_resources())[name] = value;
    conn_->Call(proto::RAYLET_REQUEST_WORKER_LEASE, request,
                [this, lease_id, conn = conn_.get()](absl::Status status, rpc::Frame&& f) {
                  // Closing: this client may be gone already.
                  if (rpc::IsConnectionFailure(*conn, status)) return;
                  proto::RequestWorkerLeaseReply reply;
                  if (status.ok() && !f.ParseBody(&reply).ok()) return;
                  absl::MutexLock lock(&mutex_);
                  replies_[lease_id] = reply;  // not granted when it is an error reply
                  errors_[lease_id] = status;
                });
  }
  // The reply to `lease_id` once it arrives (nullopt after `timeout`); an error reply reads as
  // not granted, and ErrorOf says why.
  std::optional<proto::RequestWorkerLeaseReply> WaitReply(int64_t lease_id,
                                                          absl::Duration timeout = kTimeout) {
    absl::MutexLock lock(&mutex_);
    auto arrived = [&] { return replies_.contains(lease_id); };
    if (!mutex_.AwaitWithTimeout(absl::Condition(&arrived), timeout)) return std::nullopt;
    return replies_[lease_id];
  }
  // The error reply to `lease_id` (OK when it was a reply, or none came).
  absl::Status ErrorOf(int64_t lease_id) {
    absl::MutexLock lock(&mutex_);
    auto it = errors_.find(lease_id);
    return it == errors_.end() ? absl::OkStatus() : it->second;
  }
  bool HasReply(int64_t lease_id) {
    absl::MutexLock lock(&mutex_);
    return replies_.contains(lease_id);
  }
  void ReturnWorker(int64_t lease_id, bool disconnect = false) {
    proto::ReturnWorkerRequest request;
    request.set_lease_id(lease_id);
    request.set_disconnect_worker(disconnect);
    conn_->Send(proto::RAYLET_RETURN_WORKER, request);
  }
  void Send(uint16_t method, const google::protobuf::MessageLite& message) {
    conn_->Send(method, message);
  }
  // Calls `method` and waits: the status of the answer (OK for a reply).
  absl::Status CallStatus(uint16_t method, const google::protobuf::MessageLite& message) {
    absl::Status result = absl::DeadlineExceededError("no answer within the test's timeout");
    absl::Notification done;
    conn_->Call(method, message, [&](absl::Status status, rpc::Frame&&) {
      result = std::move(status);
      done.Notify();
    });
    done.WaitForNotificationWithTimeout(kTimeout);
    return result;
  }
  bool closed() const { return conn_->closed(); }
  void Close() { conn_->Close(); }
  const std::string& job_id() const { return job_id_; }

 private:
  std::shared_ptr<rpc::Connection> conn_;
  std::string job_id_;
  std::optional<proto::JobInfo> job_info_;
  absl::Mutex mutex_;
  std::map<int64_t, proto::RequestWorkerLeaseReply> replies_;
  std::map<int64_t, absl::Status> errors_;
};

class RayletTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/moray_raylet_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    session_dir_ = dir;
    ASSERT_EQ(mkdir((session_dir_ + "/logs").c_str(), 0755), 0);
    options_.session_dir = session_dir_;
    options_.gcs_address = "127.0.0.1:1";
    options_.num_cpus = 2;
    options_.prestart_workers = 0;
    options_.object_store_memory = 1 << 20;
    client_loop_.StartThread("test-client");
  }
  void TearDown() override {
    drivers_.clear();
    if (raylet_) raylet_->Stop();
  }

  void StartRaylet() {
    auto gcs = std::make_unique<FakeGcsAccessor>();
    gcs_ = gcs.get();
    raylet_ = std::make_unique<Raylet>(options_, std::move(gcs));
    ASSERT_TRUE(raylet_->Start().ok());
  }
  static proto::JobInfo Job(const std::string& binary = MORAY_FAKE_WORKER_PATH) {
    proto::JobInfo job;
    job.set_driver_binary(binary);
    job.add_driver_argv(binary);
    return job;
  }
  TestClient& NewDriver(const proto::JobInfo& job = Job()) {
    drivers_.push_back(std::make_unique<TestClient>(&client_loop_, raylet_->port()));
    proto::RegisterClientReply reply = drivers_.back()->RegisterDriver(job);
    EXPECT_EQ(reply.node_id(), raylet_->node_id().Binary());
    EXPECT_EQ(reply.session_dir(), session_dir_);
    EXPECT_EQ(reply.store_socket(), raylet_->store_socket());
    return *drivers_.back();
  }
  // Alive registered workers (not drivers) of the node.
  std::vector<proto::WorkerInfo> AliveWorkers() {
    std::vector<proto::WorkerInfo> alive;
    raylet_->RunOnLoop([&](const NodeManager& nm) {
      for (const auto& info : nm.worker_pool().WorkerInfos()) {
        if (info.is_alive() && info.worker_type() == "WORKER") alive.push_back(info);
      }
    });
    return alive;
  }
  double AvailableCpu() {
    double cpu = 0;
    raylet_->RunOnLoop([&](const NodeManager& nm) { cpu = nm.leases().available().Get(scheduling::kCPU); });
    return cpu;
  }

  std::string session_dir_;
  RayletOptions options_;
  rpc::EventLoop client_loop_;
  FakeGcsAccessor* gcs_ = nullptr;  // owned by raylet_
  std::unique_ptr<Raylet> raylet_;
  std::vector<std::unique_ptr<TestClient>> drivers_;
};

TEST_F(RayletTest, RegistersTheNodeWithItsResources) {
  options_.custom_resources = {{"accel", 0.5}};
  options_.labels = {{"zone", "a"}};
  StartRaylet();
  auto state = gcs_->Snapshot();
  ASSERT_EQ(state.registered_nodes.size(), 1u);
  const proto::NodeInfo& node = state.registered_nodes[0];
  EXPECT_EQ(node.node_id(), raylet_->node_id().Binary());
  EXPECT_EQ(node.raylet_port(), raylet_->port());
  EXPECT_EQ(node.resources_total().at("CPU"), 2);
  EXPECT_EQ(node.resources_total().at("accel"), 0.5);
  EXPECT_FALSE(node.resources_total().contains("GPU"));
  EXPECT_EQ(node.labels().at("zone"), "a");
  EXPECT_EQ(node.object_store_memory(), 1 << 20);
  raylet_->Stop();
  EXPECT_EQ(gcs_->Snapshot().unregistered_nodes, std::vector<NodeId>{raylet_->node_id()});
}

TEST_F(RayletTest, PrestartsWorkersAndGrantsOneWithItsAddressAndPid) {
  options_.prestart_workers = 2;
  StartRaylet();
  TestClient& driver = NewDriver();
  EXPECT_EQ(gcs_->Snapshot().jobs.size(), 1u);
  ASSERT_TRUE(WaitUntil([&] { return AliveWorkers().size() == 2; }));
  std::set<int> prestarted;
  for (const auto& w : AliveWorkers()) prestarted.insert(w.pid());

  driver.RequestLease(1, {});
  auto reply = driver.WaitReply(1);
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(reply->granted()) << driver.ErrorOf(1);
  EXPECT_TRUE(prestarted.contains(reply->worker_pid()));
  EXPECT_GT(reply->worker_address().port(), 0);
  EXPECT_EQ(reply->worker_address().node_id(), raylet_->node_id().Binary());
  EXPECT_EQ(reply->worker_address().worker_id().size(), WorkerId::kSize);
  EXPECT_FALSE(ProcessGone(reply->worker_pid()));
  EXPECT_EQ(AliveWorkers().size(), 2u);  // no extra start
}

// The node's auth reaches its workers through their environment, never their command line; a
// worker with it registers (the raylet's handshake checks it).
TEST_F(RayletTest, WorkersGetTheNodesAuthInTheirEnvironmentOnly) {
  const std::string token = rpc::ProcessAuth().token;
  ASSERT_FALSE(token.empty());
  options_.worker_env = rpc::AuthEnvironment(rpc::ProcessAuth());
  options_.prestart_workers = 1;
  StartRaylet();
  NewDriver();
  ASSERT_TRUE(WaitUntil([&] { return AliveWorkers().size() == 1; }));
  const std::string proc = "/proc/" + std::to_string(AliveWorkers()[0].pid());
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  // Entries are NUL-terminated: "...\0NAME=value\0".
  const std::string environ_text = std::string(1, '\0') + read(proc + "/environ");
  const std::string nul(1, '\0');
  EXPECT_NE(environ_text.find(nul + "RAY_AUTH_TOKEN=" + token + nul), std::string::npos);
  EXPECT_NE(environ_text.find(nul + "RAY_AUTH_MODE=token" + nul), std::string::npos);
  EXPECT_EQ(read(proc + "/cmdline").find(token), std::string::npos);
}

TEST_F(RayletTest, ReusesAReturnedWorker) {
  StartRaylet();
  TestClient& driver = NewDriver();
  driver.RequestLease(1, {{"CPU", 1}});
  auto first = driver.WaitReply(1);
  ASSERT_TRUE(first && first->granted()) << driver.ErrorOf(1);
  driver.ReturnWorker(1);
  driver.RequestLease(2, {{"CPU", 1}});
  auto second = driver.WaitReply(2);
  ASSERT_TRUE(second && second->granted());
  EXPECT_EQ(second->worker_pid(), first->worker_pid());
  EXPECT_EQ(AliveWorkers().size(), 1u);
}

TEST_F(RayletTest, ThirdLeaseOnTwoCpusWaitsForAReturn) {
  StartRaylet();
  TestClient& driver = NewDriver();
  for (int i = 1; i <= 3; ++i) driver.RequestLease(i, {{"CPU", 1}});
  auto a = driver.WaitReply(1);
  auto b = driver.WaitReply(2);
  ASSERT_TRUE(a && a->granted() && b && b->granted());
  EXPECT_NE(a->worker_pid(), b->worker_pid());
  EXPECT_FALSE(driver.HasReply(3));
  EXPECT_EQ(AvailableCpu(), 0);
  // The waiting request is a pending (not infeasible) demand.
  ASSERT_TRUE(gcs_->WaitFor(
      [](const FakeGcsAccessor::State& s) {
        if (s.reports.empty()) return false;
        const auto& r = s.reports.back();
        return r.demands_size() == 1 && !r.demands(0).infeasible() &&
               r.demands(0).num_ready_requests() == 1 && r.resources_available().at("CPU") == 0;
      },
      kTimeout));
  driver.ReturnWorker(2);
  auto c = driver.WaitReply(3);
  ASSERT_TRUE(c && c->granted());
  EXPECT_EQ(c->worker_pid(), b->worker_pid());
}

TEST_F(RayletTest, InfeasibleRequestStaysPendingAndIsReported) {
  StartRaylet();
  TestClient& driver = NewDriver();
  driver.RequestLease(1, {{"GPU", 1}});
  driver.RequestLease(2, {{"CPU", 1}});
  auto granted = driver.WaitReply(2);
  ASSERT_TRUE(granted && granted->granted());
  ASSERT_TRUE(gcs_->WaitFor(
      [](const FakeGcsAccessor::State& s) {
        if (s.reports.empty()) return false;
        const auto& r = s.reports.back();
        return r.demands_size() == 1 && r.demands(0).infeasible() &&
               r.demands(0).shape().at("GPU") == 1;
      },
      kTimeout));
  EXPECT_FALSE(driver.HasReply(1));
}

TEST_F(RayletTest, KillingALeasedWorkerFreesItsResources) {
  options_.num_cpus = 1;
  StartRaylet();
  TestClient& driver = NewDriver();
  driver.RequestLease(1, {{"CPU", 1}});
  driver.RequestLease(2, {{"CPU", 1}});
  auto first = driver.WaitReply(1);
  ASSERT_TRUE(first && first->granted());
  EXPECT_FALSE(driver.HasReply(2));
  ASSERT_EQ(kill(first->worker_pid(), SIGKILL), 0);
  auto second = driver.WaitReply(2);
  ASSERT_TRUE(second && second->granted()) << driver.ErrorOf(2);
  EXPECT_NE(second->worker_pid(), first->worker_pid());
  EXPECT_TRUE(WaitUntil([&] { return ProcessGone(first->worker_pid()); }));
  // The report lists it as dead by a system error.
  ASSERT_TRUE(gcs_->WaitFor(
      [&](const FakeGcsAccessor::State& s) {
        if (s.reports.empty()) return false;
        for (const auto& w : s.reports.back().workers()) {
          if (w.pid() == first->worker_pid()) {
            return !w.is_alive() && w.exit_type() == "SYSTEM_ERROR";
          }
        }
        return false;
      },
      kTimeout));
}

TEST_F(RayletTest, BlockedWorkerLetsANestedLeaseThrough) {
  options_.num_cpus = 1;
  StartRaylet();
  TestClient& driver = NewDriver();
  driver.RequestLease(1, {{"CPU", 1}});
  auto outer = driver.WaitReply(1);
  ASSERT_TRUE(outer && outer->granted());
  driver.RequestLease(2, {{"CPU", 1}});
  proto::BlockedRequest blocked;
  blocked.set_worker_id(outer->worker_address().worker_id());
  driver.Send(proto::RAYLET_NOTIFY_BLOCKED, blocked);
  auto inner = driver.WaitReply(2);
  ASSERT_TRUE(inner && inner->granted());
  driver.Send(proto::RAYLET_NOTIFY_UNBLOCKED, blocked);
  EXPECT_TRUE(WaitUntil([&] { return AvailableCpu() == -1; }));
  driver.ReturnWorker(2);
  driver.ReturnWorker(1);
  EXPECT_TRUE(WaitUntil([&] { return AvailableCpu() == 1; }));
}

TEST_F(RayletTest, DriverDisconnectKillsTheJobsWorkersAndFinishesTheJob) {
  StartRaylet();
  TestClient& driver = NewDriver();
  driver.RequestLease(1, {{"CPU", 1}});
  driver.RequestLease(2, {{"CPU", 1}});
  auto a = driver.WaitReply(1);
  auto b = driver.WaitReply(2);
  ASSERT_TRUE(a && a->granted() && b && b->granted());
  driver.ReturnWorker(2);  // one idle, one leased
  const std::string job_id = driver.job_id();
  driver.Close();
  EXPECT_TRUE(WaitUntil([&] { return ProcessGone(a->worker_pid()) && ProcessGone(b->worker_pid()); }));
  EXPECT_TRUE(gcs_->WaitFor(
      [&](const FakeGcsAccessor::State& s) {
        return s.finished_jobs == std::vector<JobId>{JobId::FromBinary(job_id)};
      },
      kTimeout));
  EXPECT_TRUE(WaitUntil([&] { return AvailableCpu() == 2; }));
  EXPECT_TRUE(AliveWorkers().empty());
}

TEST_F(RayletTest, MissingDriverBinaryFailsTheLeaseClearly) {
  StartRaylet();
  TestClient& driver = NewDriver(Job("/nonexistent/moray_driver"));
  driver.RequestLease(1, {{"CPU", 1}});
  auto reply = driver.WaitReply(1);
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->granted());
  EXPECT_EQ(driver.ErrorOf(1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(driver.ErrorOf(1).message(), "could not start a worker for job " + ToHex(driver.job_id()) +
                                ": exec /nonexistent/moray_driver: No such file or directory");
  EXPECT_TRUE(WaitUntil([&] { return AvailableCpu() == 2; }));
}

TEST_F(RayletTest, WorkersThatExitBeforeRegisteringFailTheLease) {
  StartRaylet();
  TestClient& driver = NewDriver(Job("/bin/false"));
  driver.RequestLease(1, {{"CPU", 1}});
  auto reply = driver.WaitReply(1);
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->granted());
  EXPECT_NE(driver.ErrorOf(1).message().find("exited before registering (exit code 1)"),
            std::string::npos)
      << driver.ErrorOf(1);
}

TEST_F(RayletTest, IdleWorkersAboveThePrestartCountAreStopped) {
  options_.idle_worker_timeout = absl::Milliseconds(100);
  StartRaylet();
  TestClient& driver = NewDriver();
  driver.RequestLease(1, {{"CPU", 1}});
  auto reply = driver.WaitReply(1);
  ASSERT_TRUE(reply && reply->granted());
  driver.ReturnWorker(1);
  EXPECT_TRUE(WaitUntil([&] { return ProcessGone(reply->worker_pid()); }));
  bool idle_exit = false;
  raylet_->RunOnLoop([&](const NodeManager& nm) {
    for (const auto& w : nm.worker_pool().WorkerInfos()) {
      if (w.pid() == reply->worker_pid()) idle_exit = w.exit_type() == "IDLE_EXIT";
    }
  });
  EXPECT_TRUE(idle_exit);
}

// A node that runs a job's workers only for leases from elsewhere is never told that the job
// ended, so it keeps none of them idle beyond idle_timeout: the prestart count is kept idle only
// beside the job's driver.
TEST_F(RayletTest, IdleWorkersOfAJobWhoseDriverIsElsewhereAreStopped) {
  options_.idle_worker_timeout = absl::Milliseconds(100);
  options_.prestart_workers = 2;
  StartRaylet();
  proto::JobInfo job = Job();
  job.set_job_id(JobIdFromInt(7).Binary());
  TestClient owner(&client_loop_, raylet_->port());
  owner.LeaseAs(job);
  owner.RequestLease(1, {{"CPU", 1}});
  auto reply = owner.WaitReply(1);
  ASSERT_TRUE(reply && reply->granted()) << owner.ErrorOf(1);
  owner.ReturnWorker(1);
  EXPECT_TRUE(WaitUntil([&] { return ProcessGone(reply->worker_pid()); }));
}

TEST_F(RayletTest, UnknownJobAndBadResourcesAreRejected) {
  StartRaylet();
  TestClient& driver = NewDriver();
  driver.RequestLease(1, {{"CPU", -2}});
  auto bad = driver.WaitReply(1);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(driver.ErrorOf(1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(driver.ErrorOf(1).message().find("CPU"), std::string::npos) << driver.ErrorOf(1);

  proto::RequestWorkerLeaseRequest request;
  request.set_lease_id(5);
  request.set_job_id(JobIdFromInt(99).Binary());
  absl::Status error;
  absl::Notification done;
  // A client that registered no driver asks for a job this node does not know.
  auto conn = rpc::Connection::Connect(&client_loop_, "127.0.0.1", raylet_->port(), kTimeout);
  ASSERT_TRUE(conn.ok());
  (*conn)->SetHandlers([](const std::shared_ptr<rpc::Connection>&, rpc::Frame&&) {},
                       [](const std::shared_ptr<rpc::Connection>&) {});
  (*conn)->Call(proto::RAYLET_REQUEST_WORKER_LEASE, request, [&](absl::Status status, rpc::Frame&&) {
    error = status;
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTimeout));
  EXPECT_EQ(error.code(), absl::StatusCode::kFailedPrecondition) << error;
  EXPECT_NE(error.message().find("unknown job"), std::string::npos) << error;
  (*conn)->Close();
}

TEST_F(RayletTest, WorkersThatNeverRegisterTimeOut) {
  options_.worker_register_timeout = absl::Milliseconds(200);
  StartRaylet();
  proto::JobInfo job;
  job.set_driver_binary("/bin/sleep");
  job.add_driver_argv("/bin/sleep");
  job.add_driver_argv("30");
  TestClient& driver = NewDriver(job);
  driver.RequestLease(1, {{"CPU", 1}});
  auto reply = driver.WaitReply(1);
  ASSERT_TRUE(reply.has_value());
  EXPECT_FALSE(reply->granted());
  EXPECT_NE(driver.ErrorOf(1).message().find("did not register within 200ms"), std::string::npos)
      << driver.ErrorOf(1);
}

TEST_F(RayletTest, TwentyDeepNestingOnTwoCpusDoesNotDeadlock) {
  StartRaylet();
  TestClient& driver = NewDriver();
  // Each "task" blocks in Get on the next one, as a recursive task would.
  for (int depth = 1; depth <= 20; ++depth) {
    driver.RequestLease(depth, {{"CPU", 1}});
    auto reply = driver.WaitReply(depth);
    ASSERT_TRUE(reply && reply->granted()) << "depth " << depth;
    proto::BlockedRequest blocked;
    blocked.set_worker_id(reply->worker_address().worker_id());
    driver.Send(proto::RAYLET_NOTIFY_BLOCKED, blocked);
  }
  EXPECT_EQ(AliveWorkers().size(), 20u);
}

TEST_F(RayletTest, TaskEventsReachTheGcs) {
  StartRaylet();
  TestClient& driver = NewDriver();
  proto::ReportTaskEventsRequest request;
  request.add_events()->set_task_id("t1");
  request.add_events()->set_task_id("t2");
  request.set_dropped(4);
  driver.Send(proto::RAYLET_REPORT_TASK_EVENTS, request);
  EXPECT_TRUE(gcs_->WaitFor(
      [](const FakeGcsAccessor::State& s) {
        return s.task_events.size() == 2 && s.dropped_task_events == 4;
      },
      kTimeout));
}

TEST_F(RayletTest, ObjectSnapshotsReachTheGcsAndGoWithTheirSender) {
  StartRaylet();
  TestClient& driver = NewDriver();
  proto::WorkerObjects snapshot;
  snapshot.set_worker_id("claims to be someone else");
  snapshot.set_ip("127.0.0.1");
  snapshot.add_objects()->set_object_id("o1");
  driver.Send(proto::RAYLET_REPORT_OBJECTS, snapshot);
  snapshot.add_objects()->set_object_id("o2");
  driver.Send(proto::RAYLET_REPORT_OBJECTS, snapshot);
  // The latest snapshot wins; the raylet fills in who sent it.
  WorkerId worker_id;
  ASSERT_TRUE(gcs_->WaitFor(
      [&](const FakeGcsAccessor::State& s) {
        if (s.objects.size() != 1 || s.objects.begin()->second.objects_size() != 2) return false;
        worker_id = s.objects.begin()->first;
        return true;
      },
      kTimeout));
  proto::WorkerObjects stored = gcs_->Snapshot().objects.at(worker_id);
  EXPECT_FALSE(worker_id.IsNil());
  EXPECT_EQ(stored.worker_id(), worker_id.Binary());  // not "claims to be someone else"
  EXPECT_EQ(stored.node_id(), raylet_->node_id().Binary());
  EXPECT_EQ(stored.job_id(), driver.job_id());
  EXPECT_EQ(stored.pid(), getpid());
  EXPECT_TRUE(stored.is_driver());
  EXPECT_EQ(stored.ip(), "127.0.0.1");

  driver.Close();
  EXPECT_TRUE(gcs_->WaitFor(
      [&](const FakeGcsAccessor::State& s) {
        return s.objects.empty() && s.dropped_object_workers == std::vector<WorkerId>{worker_id};
      },
      kTimeout));
}

TEST_F(RayletTest, ServesTheObjectStoreAndReportsItsUsage) {
  options_.object_store_prefault_bytes = 0;
  StartRaylet();
  EXPECT_EQ(raylet_->store_socket(),
            session_dir_ + "/sockets/store-" + raylet_->node_id().Hex() + ".sock");
  NewDriver();
  auto store = object_store::StoreClient::Connect(raylet_->store_socket());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->capacity(), 1u << 20);
  std::string data(300 << 10, 'x');
  for (char name : {'a', 'b', 'c', 'd'}) {
    const ObjectId id = ObjectId::FromBinary(std::string(ObjectId::kSize, name));
    ASSERT_TRUE((*store)->Put(id, data.data(), data.size()).ok()) << name;
  }
  auto stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->num_spilled(), 1u);  // four 300 KiB objects in a 1 MiB store
  proto::NodeResourceReport report;
  raylet_->RunOnLoop([&](const NodeManager& nm) { report = nm.BuildReport(); });
  EXPECT_EQ(report.object_store_used(), static_cast<int64_t>(stats->used()));
  EXPECT_EQ(report.object_store_spilled(), static_cast<int64_t>(data.size()));
  struct stat spill_dir;
  EXPECT_EQ(stat((session_dir_ + "/spill").c_str(), &spill_dir), 0);
}

// Only the GCS declares nodes dead. Anyone else that names this node in NODE_DIED — a driver (an
// authenticated member in the wrong role) or a process without the cluster's token — is refused,
// and the raylet keeps serving. The GCS's own NODE_DIED does stop it.
TEST_F(RayletTest, AForgedNodeDiedDoesNotStopTheRaylet) {
  std::atomic<bool> declared_dead{false};
  StartRaylet();
  raylet_->set_on_declared_dead([&](const std::string&) { declared_dead = true; });
  proto::NodeInfo me;
  me.set_node_id(raylet_->node_id().Binary());
  me.set_state_message("forged");

  TestClient& driver = NewDriver();
  absl::Status refused = driver.CallStatus(proto::RAYLET_NODE_DIED, me);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  driver.Send(proto::RAYLET_NODE_DIED, me);  // one-way, as the GCS sends it: dropped too

  const rpc::AuthConfig auth = rpc::ProcessAuth();
  rpc::SetProcessAuth({rpc::AuthMode::kToken, "not-the-cluster-token", "test"});
  rpc::SetProcessRole(proto::ROLE_GCS);  // claiming to be the GCS does not help without the token
  TestClient stranger(&client_loop_, raylet_->port());
  rpc::SetProcessAuth(auth);
  rpc::SetProcessRole(proto::ROLE_DRIVER);
  absl::Status unauthenticated = stranger.CallStatus(proto::RAYLET_NODE_DIED, me);
  EXPECT_EQ(unauthenticated.code(), absl::StatusCode::kUnauthenticated) << unauthenticated;

  // Still serving: the driver's connection is up and a lease is granted.
  driver.RequestLease(1, {{"CPU", 1}});
  auto granted = driver.WaitReply(1);
  ASSERT_TRUE(granted && granted->granted()) << driver.ErrorOf(1);
  EXPECT_FALSE(driver.closed());
  EXPECT_FALSE(declared_dead);

  rpc::SetProcessRole(proto::ROLE_GCS);
  TestClient gcs(&client_loop_, raylet_->port());
  rpc::SetProcessRole(proto::ROLE_DRIVER);
  EXPECT_TRUE(gcs.CallStatus(proto::RAYLET_HEALTH_CHECK, proto::HealthCheckRequest()).ok());
  me.set_state_message("missed its health checks");
  gcs.Send(proto::RAYLET_NODE_DIED, me);
  EXPECT_TRUE(WaitUntil([&] { return declared_dead.load(); }));
}

// RAYLET_JOB_FINISHED: what a raylet that did not host the driver hears when the job ends. Only
// the GCS may send it; it ends the job's workers as the driver's leaving does; a repeat, or a job
// unknown here, changes nothing.
TEST_F(RayletTest, JobFinishedFromTheGcsEndsTheJobOnceAndOnlyFromTheGcs) {
  StartRaylet();
  TestClient& ended = NewDriver();
  TestClient& other = NewDriver();
  ended.RequestLease(1, {{"CPU", 1}});
  other.RequestLease(1, {{"CPU", 1}});
  auto a = ended.WaitReply(1);
  auto b = other.WaitReply(1);
  ASSERT_TRUE(a && a->granted() && b && b->granted());
  ended.ReturnWorker(1);  // the ended job's first worker idle, its second (below) leased
  proto::JobFinishedNotice notice;
  notice.set_job_id(ended.job_id());

  absl::Status refused = ended.CallStatus(proto::RAYLET_JOB_FINISHED, notice);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  ended.Send(proto::RAYLET_JOB_FINISHED, notice);  // one-way, as the GCS sends it: dropped too
  ended.RequestLease(2, {{"CPU", 1}});  // served after the forged notices: the job is still here
  auto still = ended.WaitReply(2);
  ASSERT_TRUE(still && still->granted()) << ended.ErrorOf(2);
  EXPECT_FALSE(ProcessGone(a->worker_pid()));

  rpc::SetProcessRole(proto::ROLE_GCS);
  TestClient gcs(&client_loop_, raylet_->port());
  rpc::SetProcessRole(proto::ROLE_DRIVER);
  gcs.Send(proto::RAYLET_JOB_FINISHED, notice);
  EXPECT_TRUE(
      WaitUntil([&] { return ProcessGone(a->worker_pid()) && ProcessGone(still->worker_pid()); }));
  // Again, a job never seen here, and a malformed id: nothing happens to the other job.
  gcs.Send(proto::RAYLET_JOB_FINISHED, notice);
  proto::JobFinishedNotice unknown;
  unknown.set_job_id(JobIdFromInt(999).Binary());
  gcs.Send(proto::RAYLET_JOB_FINISHED, unknown);
  gcs.Send(proto::RAYLET_JOB_FINISHED, proto::JobFinishedNotice());
  EXPECT_TRUE(gcs.CallStatus(proto::RAYLET_HEALTH_CHECK, proto::HealthCheckRequest()).ok());
  EXPECT_FALSE(ProcessGone(b->worker_pid()));
  ASSERT_EQ(AliveWorkers().size(), 1u);
  EXPECT_EQ(AliveWorkers()[0].job_id(), other.job_id());
  // The ended job is gone from this node: its requests are refused, even one that carries the
  // job (as a spillback retry does, which would otherwise add it back).
  const proto::JobInfo job = Job();
  ended.RequestLease(3, {{"CPU", 1}});
  ended.RequestLease(4, {{"CPU", 1}}, &job);
  for (int64_t lease : {3, 4}) {
    ASSERT_TRUE(ended.WaitReply(lease));
    EXPECT_EQ(ended.ErrorOf(lease).code(), absl::StatusCode::kFailedPrecondition)
        << ended.ErrorOf(lease);
  }
  EXPECT_NE(ended.ErrorOf(4).message().find("has ended"), std::string::npos) << ended.ErrorOf(4);
  // Only the driver's own raylet reports a job finished to the GCS, when its driver leaves.
  bool none_finished = false;
  EXPECT_TRUE(gcs_->WaitFor(
      [&](const FakeGcsAccessor::State& s) {
        none_finished = s.finished_jobs.empty();
        return true;
      },
      kTimeout));
  EXPECT_TRUE(none_finished);
  EXPECT_TRUE(WaitUntil([&] { return AvailableCpu() == 1; }));
}

// The service's one policy on the raylet's port: an unknown method, a body that does not parse
// and a method of another role get error replies, and the connection keeps serving.
TEST_F(RayletTest, BadFramesGetErrorRepliesAndTheConnectionStays) {
  StartRaylet();
  TestClient& driver = NewDriver();
  absl::Status unknown = driver.CallStatus(199, proto::HealthCheckRequest());
  EXPECT_EQ(unknown.code(), absl::StatusCode::kUnimplemented) << unknown;
  // A RequestWorkerLeaseRequest's field 3 is a map entry; GetObjectRequest's field 3 (bytes)
  // puts bytes there whose first tag has field number 0, which does not parse.
  proto::GetObjectRequest garbage;
  garbage.set_lost_on_node(std::string("\0\0", 2));
  absl::Status malformed = driver.CallStatus(proto::RAYLET_REQUEST_WORKER_LEASE, garbage);
  EXPECT_EQ(malformed.code(), absl::StatusCode::kInvalidArgument) << malformed;
  EXPECT_NE(malformed.message().find("malformed request"), std::string::npos) << malformed;
  absl::Status health = driver.CallStatus(proto::RAYLET_HEALTH_CHECK, proto::HealthCheckRequest());
  EXPECT_EQ(health.code(), absl::StatusCode::kPermissionDenied) << health;
  proto::ReadChunkRequest chunk;
  chunk.set_object_id(std::string(ObjectId::kSize, 'x'));
  absl::Status read = driver.CallStatus(proto::TRANSFER_READ_OBJECT_CHUNK, chunk);
  EXPECT_EQ(read.code(), absl::StatusCode::kPermissionDenied) << read;

  EXPECT_FALSE(driver.closed());
  driver.RequestLease(1, {{"CPU", 1}});
  auto granted = driver.WaitReply(1);
  ASSERT_TRUE(granted && granted->granted()) << driver.ErrorOf(1);
}

TEST(StoreSocketPathTest, FallsBackToAShortPathWhenTheSessionPathIsTooLong) {
  const std::string node(32, 'f');
  EXPECT_EQ(StoreSocketPath("/tmp/moray/session_1", node),
            "/tmp/moray/session_1/sockets/store-" + node + ".sock");
  const std::string fallback = StoreSocketPath("/tmp/" + std::string(100, 's'), node);
  EXPECT_EQ(fallback, "/tmp/moray-" + std::to_string(getuid()) + "/store-" + node + ".sock");
  EXPECT_LT(fallback.size(), 108u);
}

}  // namespace
}  // namespace moray::raylet
