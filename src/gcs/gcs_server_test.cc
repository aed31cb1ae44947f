// The GCS on loopback: a GcsServer on port 0 and a GcsClient talking to it as a raylet, a core
// worker's actor methods by hand (FramedPeer), plus the RunGcsServer process entry (ready fd,
// SIGTERM, owner exit) in forked children.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/id.h"
#include "gcs/gcs_client.h"
#include "gcs/gcs_server.h"
#include "gcs/gcs_server_main.h"
#include "gcs/testing/framed_peer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/testing/loopback.h"
#include "rpc/handshake.h"

namespace moray::gcs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Waits up to `timeout` for child `pid` to exit; returns its wait status or -1 on timeout.
int WaitForExit(pid_t pid, absl::Duration timeout) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    close(fd);
    if (n <= 0) return -1;
  }
  int status = 0;
  return waitpid(pid, &status, 0) == pid ? status : -1;
}

// Reads "<port>\n" from `fd` within `timeout`; 0 on EOF or timeout.
int ReadPort(int fd, absl::Duration timeout) {
  std::string text;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()))) <= 0) break;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, n);
    if (text.find('\n') != std::string::npos) break;
  }
  int port = 0;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return absl::SimpleAtoi(text, &port) ? port : 0;
}

// Forks a child running RunGcsServer; returns its pid and the port it reported.
std::pair<pid_t, int> ForkGcs(int owner_pid) {
  int pipefd[2];
  EXPECT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    GcsServerOptions options;
    options.ready_fd = pipefd[1];
    options.owner_pid = owner_pid;
    _exit(RunGcsServer(options));
  }
  close(pipefd[1]);
  int port = ReadPort(pipefd[0], absl::Seconds(60));
  close(pipefd[0]);
  return {pid, port};
}

// These two run first, before this process starts any thread a fork would not take along.
TEST(RunGcsServerTest, ReportsPortAndExitsCleanlyOnSigterm) {
  auto [pid, port] = ForkGcs(/*owner_pid=*/0);
  ASSERT_GT(port, 0);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = WaitForExit(pid, absl::Seconds(60));
  ASSERT_NE(status, -1) << "the GCS did not exit within a minute of SIGTERM";
  EXPECT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(RunGcsServerTest, ExitsWhenTheOwnerExits) {
  pid_t owner = fork();
  if (owner == 0) {
    pause();
    _exit(0);
  }
  auto [pid, port] = ForkGcs(owner);
  ASSERT_GT(port, 0);
  kill(owner, SIGKILL);
  WaitForExit(owner, absl::Seconds(60));
  int status = WaitForExit(pid, absl::Seconds(60));
  if (status == -1) kill(pid, SIGKILL);
  ASSERT_NE(status, -1) << "the GCS outlived its owner";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// The client is a raylet's (the role that registers nodes and jobs); the test process is a
// driver otherwise (unit_test_main.cc).
class GcsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok());
    rpc::SetProcessRole(proto::ROLE_RAYLET);
    auto client = GcsClient::Connect("127.0.0.1:" + std::to_string(server_.port()), absl::Seconds(5));
    rpc::SetProcessRole(proto::ROLE_DRIVER);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  GcsServer server_{{.host = "127.0.0.1", .port = 0, .max_task_records = 1000}};
  std::unique_ptr<GcsClient> client_;
};

TEST_F(GcsServerTest, NodesAndClusterStatus) {
  proto::NodeInfo node;
  node.set_node_id(std::string(16, 'n'));
  node.set_node_ip("127.0.0.1");
  node.set_is_head_node(true);
  (*node.mutable_resources_total())["CPU"] = 4;
  ASSERT_TRUE(client_->RegisterNode(node).ok());

  proto::NodeResourceReport report;
  report.set_node_id(node.node_id());
  (*report.mutable_resources_total())["CPU"] = 4;
  (*report.mutable_resources_available())["CPU"] = 1;
  auto* demand = report.add_demands();
  (*demand->mutable_shape())["CPU"] = 8;
  demand->set_num_ready_requests(2);
  demand->set_infeasible(true);
  ASSERT_TRUE(client_->ReportResources(report).ok());

  auto nodes = client_->GetAllNodes();
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_TRUE((*nodes)[0].is_head_node());

  auto status = client_->GetClusterStatus();
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->reports_size(), 1);
  EXPECT_EQ(status->reports(0).resources_available().at("CPU"), 1);
  EXPECT_TRUE(status->reports(0).demands(0).infeasible());

  ASSERT_TRUE(client_->UnregisterNode(NodeId::FromBinary(node.node_id()), "test over").ok());
  nodes = client_->GetAllNodes();
  EXPECT_EQ((*nodes)[0].state(), proto::NODE_DEAD);
  EXPECT_EQ((*nodes)[0].state_message(), "test over");

  // Errors keep their canonical code across the wire.
  auto missing = client_->UnregisterNode(NodeId::FromBinary(std::string(16, 'x')), "");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("UnregisterNode"));
}

TEST_F(GcsServerTest, Jobs) {
  proto::JobInfo job;
  job.set_driver_pid(getpid());
  job.set_driver_binary("/usr/bin/app");
  auto first = client_->AddJob(job);
  auto second = client_->AddJob(job);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, JobIdFromInt(1));
  EXPECT_EQ(*second, JobIdFromInt(2));
  ASSERT_TRUE(client_->MarkJobFinished(*first).ok());
  auto jobs = client_->GetAllJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_TRUE((*jobs)[0].is_dead());
  EXPECT_FALSE((*jobs)[1].is_dead());
  EXPECT_EQ((*jobs)[1].driver_binary(), "/usr/bin/app");
}

TEST_F(GcsServerTest, Kv) {
  EXPECT_EQ(*client_->KvPut("ns", "k1", "v1", false), true);
  EXPECT_EQ(*client_->KvPut("ns", "k1", "other", false), false);
  EXPECT_EQ(*client_->KvGet("ns", "k1"), std::optional<std::string>("v1"));
  EXPECT_EQ(*client_->KvGet("ns", "nope"), std::nullopt);
  ASSERT_TRUE(client_->KvPut("ns", "k2", std::string(5 << 20, 'x'), false).ok());  // > 4 MiB
  EXPECT_EQ((*client_->KvGet("ns", "k2"))->size(), 5u << 20);
  EXPECT_THAT(*client_->KvKeys("ns", "k"), ElementsAre("k1", "k2"));
  EXPECT_EQ(*client_->KvDel("ns", "k", true), 2);
  EXPECT_TRUE(client_->KvKeys("ns", "")->empty());
}

TEST_F(GcsServerTest, TaskEventsFilteredAtTheSource) {
  std::vector<proto::TaskEvent> events;
  for (int i = 0; i < 30; ++i) {
    proto::TaskEvent e;
    e.set_task_id(NewTaskId(JobIdFromInt(1)).Binary());
    e.set_job_id(JobIdFromInt(1).Binary());
    e.set_state(i < 10 ? proto::FINISHED : proto::RUNNING);
    e.set_timestamp_ns(absl::GetCurrentTimeNanos());
    e.set_has_descriptive_fields(true);
    e.set_name(i % 3 == 0 ? "fizz" : "plain");
    e.set_func_or_class_name(e.name());
    events.push_back(e);
  }
  ASSERT_TRUE(client_->ReportTaskEvents(events, /*dropped=*/2).ok());

  proto::StateFilter running;
  running.set_key("state");
  running.set_op("=");
  running.set_value("Running");
  proto::StateFilter fizz;
  fizz.set_key("name");
  fizz.set_op("!=");
  fizz.set_value("FIZZ");
  auto reply = client_->GetTasks({running, fizz}, /*limit=*/5);
  ASSERT_TRUE(reply.ok()) << reply.status();
  // Of tasks 10..29, the ones with i % 3 != 0: 20 - 6 (12, 15, ..., 27) = 14.
  EXPECT_EQ(reply->total(), 14);
  EXPECT_EQ(reply->tasks_size(), 5);
  EXPECT_EQ(reply->num_truncated(), 9);
  EXPECT_EQ(reply->num_dropped(), 2);

  proto::StateFilter bad;
  bad.set_key("nope");
  bad.set_op("=");
  auto invalid = client_->GetTasks({bad}, 10);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);

  // A page further on: the offset skips matches, total still counts them all.
  auto page = client_->GetTasks({running, fizz}, /*limit=*/5, /*offset=*/12);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total(), 14);
  EXPECT_EQ(page->tasks_size(), 2);
  auto all = client_->GetTasks({running, fizz}, /*limit=*/0);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->tasks_size(), 14);
  EXPECT_EQ(page->tasks(0).task_id(), all->tasks(12).task_id());
  EXPECT_EQ(page->tasks(1).task_id(), all->tasks(13).task_id());

  // The summary is counted at the GCS over every record.
  auto summary = client_->SummarizeTasks();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->total_tasks(), 30);
  EXPECT_EQ(summary->num_events_dropped(), 2);
  ASSERT_EQ(summary->groups_size(), 2);
  EXPECT_EQ(summary->groups(0).func_or_class_name(), "plain");  // 20 of them, then fizz's 10
  EXPECT_EQ(summary->groups(0).total(), 20);
  EXPECT_EQ(summary->groups(1).func_or_class_name(), "fizz");
  ASSERT_EQ(summary->groups(1).state_counts_size(), 2);
  EXPECT_EQ(summary->groups(1).state_counts(0).state(), proto::RUNNING);  // lifecycle order
  EXPECT_EQ(summary->groups(1).state_counts(0).count(), 6);
  EXPECT_EQ(summary->groups(1).state_counts(1).state(), proto::FINISHED);
  EXPECT_EQ(summary->groups(1).state_counts(1).count(), 4);
}

// CREATE_ACTOR from a core worker (a driver here): registered PENDING_CREATION with the sender
// subscribed; a taken name is an AlreadyExists error reply; get_if_exists answers with the taken
// one. No node runs it, so it stays pending until killed or its owner goes.
proto::CreateActorRequest Creation(char id, const std::string& name, const std::string& ns,
                                   const std::string& job_id, bool detached = false) {
  proto::CreateActorRequest request;
  request.mutable_spec()->set_actor_id(std::string(16, id));
  request.mutable_spec()->set_job_id(job_id);
  request.mutable_spec()->set_type(proto::ACTOR_CREATION_TASK);
  (*request.mutable_spec()->mutable_resources())["CPU"] = 1;
  proto::ActorInfo& actor = *request.mutable_actor();
  actor.set_class_name("Counter");
  actor.set_name(name);
  actor.set_ray_namespace(ns);
  actor.set_job_id(job_id);
  actor.set_is_detached(detached);
  (*actor.mutable_required_resources())["CPU"] = 1;
  return request;
}

TEST_F(GcsServerTest, ActorsAreCreatedByCoreWorkersAndReadByAnyone) {
  auto job = client_->AddJob(proto::JobInfo());
  ASSERT_TRUE(job.ok());
  testing::FramedPeer owner;
  ASSERT_TRUE(owner.Connect(server_.port()).ok());
  auto created = owner.Call<proto::CreateActorReply>(proto::CREATE_ACTOR,
                                                     Creation('a', "counter", "ns", job->Binary()));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->actor().actor_id(), std::string(16, 'a'));
  EXPECT_EQ(created->actor().state(), proto::PENDING_CREATION);
  // The owner is subscribed: the registration itself is pushed.
  auto pushed = owner.WaitForPush<proto::ActorInfo>(
      proto::ACTOR_UPDATE, [](const proto::ActorInfo& a) { return a.actor_id() == std::string(16, 'a'); });
  ASSERT_TRUE(pushed.ok()) << pushed.status();

  auto dup = owner.Call<proto::CreateActorReply>(proto::CREATE_ACTOR,
                                                 Creation('b', "counter", "ns", job->Binary()));
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(dup.status().message()),
              HasSubstr("an actor named 'counter' already exists in namespace 'ns'"));
  proto::CreateActorRequest again = Creation('b', "counter", "ns", job->Binary());
  again.set_get_if_exists(true);
  auto existing = owner.Call<proto::CreateActorReply>(proto::CREATE_ACTOR, again);
  ASSERT_TRUE(existing.ok()) << existing.status();
  EXPECT_EQ(existing->actor().actor_id(), std::string(16, 'a'));
  ASSERT_TRUE(owner
                  .Call<proto::CreateActorReply>(proto::CREATE_ACTOR,
                                                 Creation('b', "counter", "other", job->Binary()))
                  .ok());

  auto got = client_->GetActor(ActorId::FromBinary(std::string(16, 'a')));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->required_resources().at("CPU"), 1);
  EXPECT_EQ(client_->GetNamedActor("counter", "other")->actor_id(), std::string(16, 'b'));
  EXPECT_EQ(client_->GetNamedActor("counter", "none").status().code(),
            absl::StatusCode::kNotFound);
  proto::StateFilter pending;
  pending.set_key("state");
  pending.set_op("=");
  pending.set_value("pending_creation");
  auto list = client_->GetActors({pending}, 1);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->total(), 2);
  EXPECT_EQ(list->actors_size(), 1);
  EXPECT_EQ(list->num_truncated(), 1);

  // Kill: DEAD with the reason, pushed to the subscriber.
  proto::KillActorRequest kill;
  kill.set_actor_id(std::string(16, 'b'));
  kill.set_no_restart(true);
  owner.Send(proto::KILL_ACTOR, kill);
  auto dead = owner.WaitForPush<proto::ActorInfo>(proto::ACTOR_UPDATE, [](const proto::ActorInfo& a) {
    return a.actor_id() == std::string(16, 'b') && a.state() == proto::DEAD;
  });
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_EQ(dead->death_cause().reason(), proto::ACTOR_DEATH_KILLED);

  // The job finishing takes its non-detached actors with it, and frees their names.
  ASSERT_TRUE(client_->MarkJobFinished(*job).ok());
  got = client_->GetActor(ActorId::FromBinary(std::string(16, 'a')));
  EXPECT_EQ(got->state(), proto::DEAD);
  EXPECT_EQ(got->death_cause().reason(), proto::ACTOR_DEATH_OWNER_DIED);
  EXPECT_EQ(got->death_cause().message(), "owner job finished");
  EXPECT_EQ(client_->GetNamedActor("counter", "ns").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(owner
                  .Call<proto::CreateActorReply>(proto::CREATE_ACTOR,
                                                 Creation('c', "counter", "ns", job->Binary()))
                  .ok());
}

TEST_F(GcsServerTest, AnOwnersActorsDieWithItsConnectionButNotDetachedOnes) {
  auto job = client_->AddJob(proto::JobInfo());
  ASSERT_TRUE(job.ok());
  testing::FramedPeer watcher;
  ASSERT_TRUE(watcher.Connect(server_.port()).ok());
  {
    testing::FramedPeer owner;
    ASSERT_TRUE(owner.Connect(server_.port()).ok());
    ASSERT_TRUE(owner
                    .Call<proto::CreateActorReply>(proto::CREATE_ACTOR,
                                                   Creation('o', "", "ns", job->Binary()))
                    .ok());
    ASSERT_TRUE(owner
                    .Call<proto::CreateActorReply>(
                        proto::CREATE_ACTOR,
                        Creation('d', "keeper", "ns", job->Binary(), /*detached=*/true))
                    .ok());
    // Another core worker follows the owned one.
    proto::SubscribeActorRequest subscribe;
    subscribe.set_actor_id(std::string(16, 'o'));
    watcher.Send(proto::SUBSCRIBE_ACTOR, subscribe);
    ASSERT_TRUE(watcher
                    .WaitForPush<proto::ActorInfo>(proto::ACTOR_UPDATE,
                                                   [](const proto::ActorInfo& a) {
                                                     return a.state() == proto::PENDING_CREATION;
                                                   })
                    .ok());
  }  // the owner's connection closes
  auto dead = watcher.WaitForPush<proto::ActorInfo>(
      proto::ACTOR_UPDATE, [](const proto::ActorInfo& a) { return a.state() == proto::DEAD; });
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_EQ(dead->death_cause().reason(), proto::ACTOR_DEATH_OWNER_DIED);
  EXPECT_EQ(client_->GetActor(ActorId::FromBinary(std::string(16, 'd')))->state(),
            proto::PENDING_CREATION);
}

TEST_F(GcsServerTest, AMalformedIdIsAnInvalidArgumentNamingTheField) {
  testing::FramedPeer peer;
  ASSERT_TRUE(peer.Connect(server_.port()).ok());
  proto::GetActorRequest get;
  get.set_actor_id("abc");
  auto got = peer.Call<proto::GetActorReply>(proto::GET_ACTOR, get);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(), "actor_id must be 16 bytes, got 3");

  proto::CreateActorRequest create = Creation('a', "", "ns", JobIdFromInt(1).Binary());
  create.mutable_spec()->set_actor_id("");
  auto created = peer.Call<proto::CreateActorReply>(proto::CREATE_ACTOR, create);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(created.status().message(), "spec.actor_id must be 16 bytes, got 0");
  // Nothing was registered, and the connection still serves.
  auto actors = client_->GetActors({}, 10);
  ASSERT_TRUE(actors.ok()) << actors.status();
  EXPECT_EQ(actors->total(), 0);
  EXPECT_EQ(peer.Call<proto::GetActorReply>(proto::GET_ACTOR, get).status().code(),
            absl::StatusCode::kInvalidArgument);
}

proto::CreatePlacementGroupRequest Group(const std::string& name, int bundles, double cpus = 1) {
  proto::CreatePlacementGroupRequest request;
  auto* group = request.mutable_group();
  group->set_placement_group_id(NewPlacementGroupId(JobIdFromInt(1)).Binary());
  group->set_name(name);
  group->set_ray_namespace("ns");
  group->set_strategy(proto::STRICT_SPREAD);
  for (int i = 0; i < bundles; ++i) (*group->add_bundles()->mutable_resources())["CPU"] = cpus;
  return request;
}

TEST_F(GcsServerTest, PlacementGroupsAreValidatedNamedWaitedForAndRemoved) {
  testing::FramedPeer peer;
  ASSERT_TRUE(peer.Connect(server_.port()).ok());
  auto call = [&](const proto::CreatePlacementGroupRequest& r) {
    return peer.Call<proto::CreatePlacementGroupReply>(proto::CREATE_PLACEMENT_GROUP, r);
  };
  EXPECT_EQ(call(Group("", 0)).status().message(), "placement group: the bundle list is empty");
  EXPECT_THAT(std::string(call(Group("", 1, 0)).status().message()),
              HasSubstr("bundle 0 is empty"));
  EXPECT_THAT(std::string(call(Group("", 1, -1)).status().message()),
              HasSubstr("must be a finite non-negative number"));
  auto created = call(Group("trainers", 2));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->group().state(), proto::PG_PENDING);
  const std::string id = created->group().placement_group_id();
  EXPECT_EQ(call(Group("trainers", 1)).status().code(), absl::StatusCode::kAlreadyExists);

  proto::GetPlacementGroupRequest by_name;
  by_name.set_name("trainers");
  by_name.set_ray_namespace("ns");
  auto got = peer.Call<proto::GetPlacementGroupReply>(proto::GET_PLACEMENT_GROUP, by_name);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->group().placement_group_id(), id);

  // No node: it stays pending, and a wait answers at its timeout, not before and not much after.
  proto::WaitPlacementGroupRequest wait;
  wait.set_placement_group_id(id);
  wait.set_timeout_ms(300);
  const absl::Time start = absl::Now();
  auto waited = peer.Call<proto::WaitPlacementGroupReply>(proto::WAIT_PLACEMENT_GROUP, wait);
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_FALSE(waited->ready());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(290));
  EXPECT_THAT(waited->group().state_message(), HasSubstr("infeasible"));

  proto::RemovePlacementGroupRequest remove;
  remove.set_placement_group_id(id);
  ASSERT_TRUE(
      peer.Call<proto::RemovePlacementGroupReply>(proto::REMOVE_PLACEMENT_GROUP, remove).ok());
  ASSERT_TRUE(
      peer.Call<proto::RemovePlacementGroupReply>(proto::REMOVE_PLACEMENT_GROUP, remove).ok())
      << "removing twice is harmless";
  proto::GetPlacementGroupRequest by_id;
  by_id.set_placement_group_id(id);
  got = peer.Call<proto::GetPlacementGroupReply>(proto::GET_PLACEMENT_GROUP, by_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->group().state(), proto::PG_REMOVED);
  EXPECT_THAT(got->group().state_message(), HasSubstr("was removed (ray::RemovePlacementGroup)"));
  waited = peer.Call<proto::WaitPlacementGroupReply>(proto::WAIT_PLACEMENT_GROUP, wait);
  EXPECT_FALSE(waited->ready()) << "a removed group is never ready";
  // Its name is free again; an unknown id is NotFound.
  EXPECT_TRUE(call(Group("trainers", 1)).ok());
  by_id.set_placement_group_id(NewPlacementGroupId(JobIdFromInt(1)).Binary());
  EXPECT_EQ(
      peer.Call<proto::GetPlacementGroupReply>(proto::GET_PLACEMENT_GROUP, by_id).status().code(),
      absl::StatusCode::kNotFound);
  proto::GetPlacementGroupsRequest list;
  auto all = peer.Call<proto::GetPlacementGroupsReply>(proto::GET_PLACEMENT_GROUPS, list);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total(), 2);
}

TEST_F(GcsServerTest, SubscribingToAnUnknownActorAnswersDead) {
  testing::FramedPeer peer;
  ASSERT_TRUE(peer.Connect(server_.port()).ok());
  proto::SubscribeActorRequest subscribe;
  subscribe.set_actor_id(std::string(16, 'z'));
  peer.Send(proto::SUBSCRIBE_ACTOR, subscribe);
  auto update = peer.WaitForPush<proto::ActorInfo>(
      proto::ACTOR_UPDATE, [](const proto::ActorInfo& a) { return a.actor_id() == std::string(16, 'z'); });
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ(update->state(), proto::DEAD);
  EXPECT_THAT(update->death_cause().message(), HasSubstr("unknown to the GCS"));
}

TEST(GcsClientConnectTest, FailsFastAndClearlyWhenNothingListens) {
  const int port = rpc::testing::UnusedLoopbackPort();
  ASSERT_NE(port, 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);

  // A refused connection is an answer: Connect returns with it, long before its deadline.
  const absl::Duration deadline = absl::Minutes(2);
  const absl::Time start = absl::Now();
  auto client = GcsClient::Connect(address, deadline);
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(client.status().message()),
              HasSubstr("could not connect to the Moray GCS at " + address));
  EXPECT_THAT(std::string(client.status().message()), HasSubstr("Is a cluster running there?"));
  EXPECT_THAT(std::string(client.status().message()), HasSubstr("onnection refused"));
  EXPECT_LT(took, deadline) << "it waited for the deadline";
}

TEST(GcsServerStartTest, PortInUseIsAnError) {
  GcsServer first({.host = "127.0.0.1", .port = 0});
  ASSERT_TRUE(first.Start().ok());
  GcsServer second({.host = "127.0.0.1", .port = first.port()});
  auto status = second.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(std::string(status.message()),
            "port " + std::to_string(first.port()) + " on 127.0.0.1 is already in use");
}

}  // namespace
}  // namespace moray::gcs
