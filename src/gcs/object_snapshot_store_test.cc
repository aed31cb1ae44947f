#include "gcs/object_snapshot_store.h"

#include "common/id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moray::gcs {
namespace {

const std::string kJob1("\x01\0\0\0", 4);
const std::string kJob2("\x02\0\0\0", 4);

proto::ObjectRecord Object(char c, int64_t size, const std::string& ref_type) {
  proto::ObjectRecord o;
  o.set_object_id(std::string(20, c));
  o.set_object_size(size);
  o.set_task_status("FINISHED");
  o.set_reference_type(ref_type);
  o.set_call_site("disabled");
  return o;
}

proto::WorkerObjects Worker(char worker, char node, const std::string& job, bool driver,
                            std::vector<proto::ObjectRecord> objects) {
  proto::WorkerObjects w;
  w.set_worker_id(std::string(16, worker));
  w.set_node_id(std::string(16, node));
  w.set_job_id(job);
  w.set_pid(1000 + worker);
  w.set_ip("10.0.0.1");
  w.set_is_driver(driver);
  for (auto& o : objects) *w.add_objects() = std::move(o);
  return w;
}

proto::ReportObjectsRequest Report(std::vector<proto::WorkerObjects> snapshots,
                                   std::vector<std::string> dead = {}) {
  proto::ReportObjectsRequest r;
  for (auto& s : snapshots) *r.add_snapshots() = std::move(s);
  for (auto& d : dead) r.add_dead_worker_ids(d);
  return r;
}

proto::GetObjectsRequest Query(std::vector<std::pair<std::string, std::string>> eq = {},
                               int64_t limit = 0) {
  proto::GetObjectsRequest q;
  for (auto& [k, v] : eq) {
    auto* f = q.add_filters();
    f->set_key(k);
    f->set_op("=");
    f->set_value(v);
  }
  q.set_limit(limit);
  return q;
}

std::vector<std::string> Ids(const proto::GetObjectsReply& reply) {
  std::vector<std::string> out;
  for (const auto& o : reply.objects()) out.push_back(ToHex(o.object_id()).substr(0, 2));
  return out;
}

TEST(ObjectSnapshotStoreTest, FillsProcessFieldsInFirstReportOrder) {
  ObjectSnapshotStore store;
  store.Report(Report({Worker('d', 'n', kJob1, true, {Object('a', 10, "LOCAL_REFERENCE")}),
                       Worker('w', 'n', kJob1, false, {Object('b', -1, "BORROWED")})}));
  auto reply = store.GetObjects(Query());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_THAT(Ids(*reply), ::testing::ElementsAre("61", "62"));
  EXPECT_EQ(reply->total(), 2);
  EXPECT_EQ(reply->num_truncated(), 0);
  const auto& a = reply->objects(0);
  EXPECT_EQ(a.type(), "DRIVER");
  EXPECT_EQ(a.worker_id(), std::string(16, 'd'));
  EXPECT_EQ(a.node_id(), std::string(16, 'n'));
  EXPECT_EQ(a.job_id(), kJob1);
  EXPECT_EQ(a.pid(), 1000 + 'd');
  EXPECT_EQ(a.ip(), "10.0.0.1");
  EXPECT_EQ(reply->objects(1).type(), "WORKER");
}

TEST(ObjectSnapshotStoreTest, AReportReplacesTheWorkersPreviousSnapshot) {
  ObjectSnapshotStore store;
  store.Report(Report({Worker('d', 'n', kJob1, true,
                              {Object('a', 10, "LOCAL_REFERENCE"), Object('b', 20, "LOCAL_REFERENCE")}),
                       Worker('w', 'n', kJob1, false, {Object('c', 5, "BORROWED")})}));
  store.Report(Report({Worker('d', 'n', kJob1, true, {Object('e', 30, "USED_BY_PENDING_TASK")})}));
  auto reply = store.GetObjects(Query());
  ASSERT_TRUE(reply.ok());
  // The driver reported first, so its objects still come first.
  EXPECT_THAT(Ids(*reply), ::testing::ElementsAre("65", "63"));
  // An empty snapshot empties the worker's list.
  store.Report(Report({Worker('d', 'n', kJob1, true, {})}));
  EXPECT_THAT(Ids(*store.GetObjects(Query())), ::testing::ElementsAre("63"));
}

TEST(ObjectSnapshotStoreTest, FiltersAtTheSourceThenLimits) {
  ObjectSnapshotStore store;
  std::vector<proto::ObjectRecord> objects;
  for (char c = 'a'; c < 'a' + 10; ++c) {
    objects.push_back(Object(c, c - 'a', c % 2 ? "LOCAL_REFERENCE" : "USED_BY_PENDING_TASK"));
  }
  store.Report(Report({Worker('d', 'n', kJob1, true, objects)}));
  auto local = store.GetObjects(Query({{"reference_type", "local_reference"}}, 2));
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->total(), 5);
  EXPECT_EQ(local->objects_size(), 2);
  EXPECT_EQ(local->num_truncated(), 3);
  EXPECT_THAT(Ids(*local), ::testing::ElementsAre("61", "63"));

  auto sized = store.GetObjects(Query({{"object_size", "4"}, {"type", "driver"}}));
  ASSERT_TRUE(sized.ok());
  EXPECT_THAT(Ids(*sized), ::testing::ElementsAre("65"));

  proto::GetObjectsRequest ne = Query();
  auto* f = ne.add_filters();
  f->set_key("pid");
  f->set_op("!=");
  f->set_value(std::to_string(1000 + 'd'));
  EXPECT_EQ(store.GetObjects(ne)->total(), 0);

  auto by_job = store.GetObjects(Query({{"job_id", ToHex(kJob1)}}));
  EXPECT_EQ(by_job->total(), 10);

  auto bad = store.GetObjects(Query({{"colour", "red"}}));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("object_size"));
}

TEST(ObjectSnapshotStoreTest, DroppedWhenTheWorkerDiesItsJobFinishesOrItsNodeLeaves) {
  ObjectSnapshotStore store;
  store.Report(Report({Worker('d', 'n', kJob1, true, {Object('a', 1, "LOCAL_REFERENCE")}),
                       Worker('w', 'n', kJob1, false, {Object('b', 1, "BORROWED")}),
                       Worker('x', 'm', kJob2, true, {Object('c', 1, "LOCAL_REFERENCE")}),
                       Worker('y', 'm', kJob2, false, {Object('e', 1, "LOCAL_REFERENCE")})}));
  EXPECT_EQ(store.num_workers(), 4u);

  // Dead workers are applied after the request's snapshots: a last snapshot does not linger.
  store.Report(Report({Worker('w', 'n', kJob1, false, {Object('f', 1, "BORROWED")})},
                      {std::string(16, 'w')}));
  EXPECT_THAT(Ids(*store.GetObjects(Query())), ::testing::ElementsAre("61", "63", "65"));

  store.DropJob(JobId::FromBinary(kJob1));
  EXPECT_THAT(Ids(*store.GetObjects(Query())), ::testing::ElementsAre("63", "65"));
  // A late report of the finished job does not bring its objects back.
  store.Report(Report({Worker('d', 'n', kJob1, true, {Object('a', 1, "LOCAL_REFERENCE")})}));
  EXPECT_THAT(Ids(*store.GetObjects(Query())), ::testing::ElementsAre("63", "65"));

  store.DropWorker(WorkerId::FromBinary(std::string(16, 'y')));
  EXPECT_THAT(Ids(*store.GetObjects(Query())), ::testing::ElementsAre("63"));
  store.DropNode(NodeId::FromBinary(std::string(16, 'm')));
  EXPECT_EQ(store.GetObjects(Query())->total(), 0);
  EXPECT_EQ(store.num_workers(), 0u);
}

TEST(ObjectSnapshotStoreTest, ReportsWhatWorkersLeftOutAsDropped) {
  ObjectSnapshotStore store;
  auto w = Worker('d', 'n', kJob1, true, {Object('a', 1, "LOCAL_REFERENCE")});
  w.set_num_truncated(7);
  store.Report(Report({w}));
  EXPECT_EQ(store.GetObjects(Query())->num_dropped(), 7);
}

}  // namespace
}  // namespace moray::gcs
