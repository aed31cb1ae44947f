// Filters of `moray list tasks` applied to the GCS's compact task records directly, without
// building a proto::TaskRecord per record: a million records are filtered in milliseconds.
//
// A match here is exactly a match of TaskFilter (task_columns.h) on the record's proto: columns
// read as the same strings, compared case-insensitively. Ids are compared as bytes (the value's
// hex is decoded once), states and types through a table of which enum values match, numbers
// through their canonical decimal form.
//
//   auto matcher = TaskRecordMatcher::Create(request.filters());   // InvalidArgument if bad
//   if (matcher->Matches(record)) ...
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gcs.pb.h"
#include "gcs/task_event_store.h"

namespace moray::gcs {

class TaskRecordMatcher {
 public:
  // InvalidArgument for an unknown key (the message lists the valid ones) or operator.
  static absl::StatusOr<TaskRecordMatcher> Create(
      const google::protobuf::RepeatedPtrField<proto::StateFilter>& filters);

  bool empty() const { return terms_.empty(); }
  // Whether the record passes every filter.
  bool Matches(const task_event_store_internal::Record& record) const;

 private:
  enum class Column {
    kTaskId,
    kAttempt,
    kName,
    kState,
    kJobId,
    kActorId,
    kType,
    kFunc,
    kParentTaskId,
    kNodeId,
    kWorkerId,
    kWorkerPid,
    kErrorType
  };
  struct Term {
    Column column = Column::kTaskId;
    bool equal = true;  // "=" (else "!=")
    std::string text;   // the value as given (string columns)
    std::string bytes;  // ids: the decoded value; `id_ok` false if it cannot name an id
    bool id_ok = false;
    bool nil_matches = false;  // ids and pids: the value is empty (an absent id reads "")
    int64_t number = 0;        // numbers: the value, when `number_ok`
    bool number_ok = false;
    std::array<bool, 32> enum_matches{};  // states and types: which values read as `text`
  };
  bool TermMatches(const Term& term, const task_event_store_internal::Record& record) const;

  std::vector<Term> terms_;
};

}  // namespace moray::gcs
