#include "gcs/actor_manager.h"

#include "common/id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::gcs {
namespace {

using ::testing::HasSubstr;

proto::ActorInfo Actor(char id, const std::string& name = "", const std::string& ns = "ns",
                       uint32_t job = 1) {
  proto::ActorInfo a;
  a.set_actor_id(std::string(16, id));
  a.set_class_name("Counter");
  a.set_name(name);
  a.set_ray_namespace(ns);
  a.set_job_id(JobIdFromInt(job).Binary());
  return a;
}

proto::UpdateActorRequest To(char id, proto::ActorState state) {
  proto::UpdateActorRequest r;
  r.set_actor_id(std::string(16, id));
  r.set_state(state);
  return r;
}

proto::UpdateActorRequest Alive(char id, int pid) {
  proto::UpdateActorRequest r = To(id, proto::ALIVE);
  r.mutable_address()->set_ip("10.0.0.1");
  r.mutable_address()->set_port(1234);
  r.mutable_address()->set_worker_id(std::string(16, 'w'));
  r.mutable_address()->set_node_id(std::string(16, 'n'));
  r.set_pid(pid);
  return r;
}

proto::UpdateActorRequest Dead(char id, proto::ActorDeathReason reason, const std::string& msg) {
  proto::UpdateActorRequest r = To(id, proto::DEAD);
  r.mutable_death_cause()->set_reason(reason);
  r.mutable_death_cause()->set_message(msg);
  return r;
}

class ActorManagerTest : public ::testing::Test {
 protected:
  InMemoryTableStorage storage_;
  ActorManager actors_{&storage_};
};

TEST_F(ActorManagerTest, RegisterStoresPendingCreation) {
  proto::ActorInfo a = Actor('a', "counter");
  a.set_state(proto::ALIVE);  // ignored
  ASSERT_TRUE(actors_.Register(a).ok());
  auto got = actors_.Get(ActorId::FromBinary(a.actor_id()));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state(), proto::PENDING_CREATION);
  EXPECT_GT(got->register_time_ms(), 0);
  EXPECT_EQ(got->class_name(), "Counter");

  EXPECT_EQ(actors_.Register(proto::ActorInfo()).code(), absl::StatusCode::kInvalidArgument);
  auto again = actors_.Register(Actor('a'));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(actors_.Get(ActorId::FromBinary(std::string(16, 'z'))).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ActorManagerTest, DuplicateNameInANamespaceIsRejectedClearly) {
  ASSERT_TRUE(actors_.Register(Actor('a', "counter", "ns")).ok());
  auto dup = actors_.Register(Actor('b', "counter", "ns"));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(dup.message()),
              HasSubstr("an actor named 'counter' already exists in namespace 'ns'"));
  EXPECT_EQ(actors_.Get(ActorId::FromBinary(std::string(16, 'b'))).status().code(),
            absl::StatusCode::kNotFound);
  // Anonymous actors never collide.
  EXPECT_TRUE(actors_.Register(Actor('c')).ok());
  EXPECT_TRUE(actors_.Register(Actor('d')).ok());
}

TEST_F(ActorManagerTest, NamespacesAreIsolated) {
  ASSERT_TRUE(actors_.Register(Actor('a', "counter", "one")).ok());
  ASSERT_TRUE(actors_.Register(Actor('b', "counter", "two")).ok());
  EXPECT_EQ(actors_.GetNamed("counter", "one")->actor_id(), std::string(16, 'a'));
  EXPECT_EQ(actors_.GetNamed("counter", "two")->actor_id(), std::string(16, 'b'));
  EXPECT_EQ(actors_.GetNamed("counter", "three").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(actors_.GetNamed("other", "one").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ActorManagerTest, NameIsFreedWhenTheActorIsDeadDetachedOrNot) {
  proto::ActorInfo detached = Actor('a', "svc");
  detached.set_is_detached(true);
  ASSERT_TRUE(actors_.Register(detached).ok());
  ASSERT_TRUE(actors_.Register(Actor('b', "tmp")).ok());
  ASSERT_TRUE(actors_.Update(Alive('a', 10)).ok());
  ASSERT_TRUE(actors_.Update(Dead('a', proto::ACTOR_DEATH_KILLED, "killed")).ok());
  ASSERT_TRUE(actors_.Update(Dead('b', proto::ACTOR_DEATH_OUT_OF_SCOPE, "gone")).ok());
  EXPECT_EQ(actors_.GetNamed("svc", "ns").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(actors_.Register(Actor('c', "svc")).ok());
  EXPECT_TRUE(actors_.Register(Actor('d', "tmp")).ok());
  EXPECT_EQ(actors_.GetNamed("svc", "ns")->actor_id(), std::string(16, 'c'));
  // The dead one keeps its record, name and cause.
  auto old = actors_.Get(ActorId::FromBinary(std::string(16, 'a')));
  EXPECT_EQ(old->state(), proto::DEAD);
  EXPECT_EQ(old->name(), "svc");
  EXPECT_EQ(old->death_cause().reason(), proto::ACTOR_DEATH_KILLED);
  EXPECT_GT(old->end_time_ms(), 0);
}

TEST_F(ActorManagerTest, TransitionsFollowTheStateMachine) {
  proto::ActorInfo a = Actor('a');
  a.set_max_restarts(1);
  ASSERT_TRUE(actors_.Register(a).ok());
  // PENDING_CREATION cannot restart or go back.
  EXPECT_EQ(actors_.Update(To('a', proto::RESTARTING)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(actors_.Update(To('a', proto::DEPENDENCIES_UNREADY)).status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto alive = actors_.Update(Alive('a', 4321));
  ASSERT_TRUE(alive.ok()) << alive.status();
  EXPECT_EQ(alive->state(), proto::ALIVE);
  EXPECT_EQ(alive->pid(), 4321);
  EXPECT_EQ(alive->node_id(), std::string(16, 'n'));
  EXPECT_EQ(alive->address().port(), 1234);
  EXPECT_GT(alive->start_time_ms(), 0);
  auto twice = actors_.Update(Alive('a', 1));
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(twice.status().message()), HasSubstr("cannot go from ALIVE to ALIVE"));

  auto restarting = actors_.Update(To('a', proto::RESTARTING));
  ASSERT_TRUE(restarting.ok());
  EXPECT_EQ(restarting->num_restarts(), 1);
  EXPECT_EQ(restarting->pid(), 0);
  EXPECT_FALSE(restarting->has_address());
  ASSERT_TRUE(actors_.Update(Alive('a', 4322)).ok());
  // max_restarts = 1 is used up.
  auto no_more = actors_.Update(To('a', proto::RESTARTING));
  EXPECT_EQ(no_more.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(no_more.status().message()), HasSubstr("1 of 1 restarts used"));

  auto dead = actors_.Update(Dead('a', proto::ACTOR_DEATH_WORKER_DIED, "crashed"));
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(dead->death_cause().message(), "crashed");
  EXPECT_EQ(dead->pid(), 4322);  // kept for the record
  // DEAD is final.
  EXPECT_EQ(actors_.Update(Alive('a', 1)).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(actors_.Update(Dead('a', proto::ACTOR_DEATH_KILLED, "")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(actors_.Update(To('z', proto::ALIVE)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ActorManagerTest, UnlimitedRestarts) {
  proto::ActorInfo a = Actor('a');
  a.set_max_restarts(-1);
  ASSERT_TRUE(actors_.Register(a).ok());
  ASSERT_TRUE(actors_.Update(Alive('a', 1)).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(actors_.Update(To('a', proto::RESTARTING)).ok());
    ASSERT_TRUE(actors_.Update(Alive('a', 2 + i)).ok());
  }
  EXPECT_EQ(actors_.Get(ActorId::FromBinary(a.actor_id()))->num_restarts(), 5);
}

TEST_F(ActorManagerTest, TransitionTable) {
  using S = proto::ActorState;
  const S all[] = {proto::DEPENDENCIES_UNREADY, proto::PENDING_CREATION, proto::ALIVE,
                   proto::RESTARTING, proto::DEAD};
  int allowed = 0;
  for (S from : all) {
    for (S to : all) allowed += IsValidActorTransition(from, to);
    EXPECT_EQ(IsValidActorTransition(from, proto::DEAD), from != proto::DEAD);
  }
  EXPECT_EQ(allowed, 8);
  EXPECT_TRUE(IsValidActorTransition(proto::DEPENDENCIES_UNREADY, proto::PENDING_CREATION));
  EXPECT_TRUE(IsValidActorTransition(proto::RESTARTING, proto::ALIVE));
}

TEST_F(ActorManagerTest, JobFinishKillsItsNonDetachedActors) {
  ASSERT_TRUE(actors_.Register(Actor('a', "pending", "ns", 1)).ok());
  ASSERT_TRUE(actors_.Register(Actor('b', "alive", "ns", 1)).ok());
  ASSERT_TRUE(actors_.Update(Alive('b', 7)).ok());
  proto::ActorInfo detached = Actor('c', "svc", "ns", 1);
  detached.set_is_detached(true);
  ASSERT_TRUE(actors_.Register(detached).ok());
  ASSERT_TRUE(actors_.Register(Actor('d', "other-job", "ns", 2)).ok());
  ASSERT_TRUE(actors_.Register(Actor('e', "", "ns", 1)).ok());
  ASSERT_TRUE(actors_.Update(Dead('e', proto::ACTOR_DEATH_KILLED, "killed")).ok());

  auto count = actors_.OnJobFinished(JobIdFromInt(1));
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
  for (char id : {'a', 'b'}) {
    auto actor = actors_.Get(ActorId::FromBinary(std::string(16, id)));
    EXPECT_EQ(actor->state(), proto::DEAD);
    EXPECT_EQ(actor->death_cause().reason(), proto::ACTOR_DEATH_OWNER_DIED);
    EXPECT_EQ(actor->death_cause().message(), "owner job finished");
  }
  EXPECT_EQ(actors_.Get(ActorId::FromBinary(std::string(16, 'c')))->state(),
            proto::PENDING_CREATION);
  EXPECT_EQ(actors_.Get(ActorId::FromBinary(std::string(16, 'd')))->state(),
            proto::PENDING_CREATION);
  // An actor already dead keeps its own cause.
  EXPECT_EQ(actors_.Get(ActorId::FromBinary(std::string(16, 'e')))->death_cause().reason(),
            proto::ACTOR_DEATH_KILLED);
  // Names of the dead are free; the detached one keeps its name.
  EXPECT_TRUE(actors_.Register(Actor('f', "alive", "ns", 3)).ok());
  EXPECT_EQ(actors_.Register(Actor('g', "svc", "ns", 3)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*actors_.OnJobFinished(JobIdFromInt(1)), 0);  // idempotent
}

TEST_F(ActorManagerTest, GetActorsFiltersThenLimitsInRegistrationOrder) {
  for (char id = 'a'; id < 'k'; ++id) {  // 10 actors
    proto::ActorInfo a = Actor(id);
    a.set_class_name(id % 2 == 0 ? "Even" : "Odd");
    ASSERT_TRUE(actors_.Register(a).ok());
  }
  ASSERT_TRUE(actors_.Update(Alive('b', 5)).ok());
  proto::GetActorsRequest request;
  auto* f = request.add_filters();
  f->set_key("CLASS_NAME");
  f->set_op("=");
  f->set_value("even");
  request.set_limit(3);
  auto reply = actors_.GetActors(request);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->total(), 5);  // b d f h j
  EXPECT_EQ(reply->num_truncated(), 2);
  ASSERT_EQ(reply->actors_size(), 3);
  EXPECT_EQ(reply->actors(0).actor_id(), std::string(16, 'b'));
  EXPECT_EQ(reply->actors(2).actor_id(), std::string(16, 'f'));

  auto* state = request.add_filters();
  state->set_key("state");
  state->set_op("!=");
  state->set_value("alive");
  request.set_limit(0);
  reply = actors_.GetActors(request);
  EXPECT_EQ(reply->total(), 4);
  EXPECT_EQ(reply->num_truncated(), 0);

  proto::GetActorsRequest bad;
  bad.add_filters()->set_key("nope");
  bad.mutable_filters(0)->set_op("=");
  auto invalid = actors_.GetActors(bad);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(invalid.status().message()), HasSubstr("for actors"));
}

TEST_F(ActorManagerTest, ReloadsFromStorage) {
  ASSERT_TRUE(actors_.Register(Actor('a', "kept")).ok());
  ASSERT_TRUE(actors_.Register(Actor('b', "freed")).ok());
  ASSERT_TRUE(actors_.Update(Dead('b', proto::ACTOR_DEATH_KILLED, "")).ok());
  ActorManager reloaded(&storage_);
  EXPECT_EQ(reloaded.GetNamed("kept", "ns")->actor_id(), std::string(16, 'a'));
  EXPECT_EQ(reloaded.Get(ActorId::FromBinary(std::string(16, 'b')))->state(), proto::DEAD);
  EXPECT_TRUE(reloaded.Register(Actor('c', "freed")).ok());
  EXPECT_EQ(reloaded.Register(Actor('d', "kept")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(reloaded.GetActors({})->total(), 3);
}

}  // namespace
}  // namespace moray::gcs
