#include "gcs/task_record_match.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gcs/column_filter.h"
#include "gcs/task_columns.h"

namespace moray::gcs {
namespace {

using task_event_store_internal::Record;

// An id column reads "" when nil, else its lowercase hex.
template <typename IdT>
bool IdEquals(const IdT& id, bool nil_matches, bool id_ok, const std::string& bytes) {
  if (id.IsNil()) return nil_matches;
  return id_ok && id.View() == bytes;
}

}  // namespace

absl::StatusOr<TaskRecordMatcher> TaskRecordMatcher::Create(
    const google::protobuf::RepeatedPtrField<proto::StateFilter>& filters) {
  static const auto* kColumns =
      new std::vector<std::pair<std::string, Column>>{{"task_id", Column::kTaskId},
                                                      {"attempt_number", Column::kAttempt},
                                                      {"name", Column::kName},
                                                      {"state", Column::kState},
                                                      {"job_id", Column::kJobId},
                                                      {"actor_id", Column::kActorId},
                                                      {"type", Column::kType},
                                                      {"func_or_class_name", Column::kFunc},
                                                      {"parent_task_id", Column::kParentTaskId},
                                                      {"node_id", Column::kNodeId},
                                                      {"worker_id", Column::kWorkerId},
                                                      {"worker_pid", Column::kWorkerPid},
                                                      {"error_type", Column::kErrorType}};
  TaskRecordMatcher out;
  for (const auto& filter : filters) {
    // The one place that checks keys and operators, and how the value is trimmed.
    auto parsed = ColumnFilter::Create(filter, TaskColumns(), "tasks");
    if (!parsed.ok()) return parsed.status();
    Term term;
    for (const auto& [name, column] : *kColumns) {
      if (name == parsed->key()) term.column = column;
    }
    term.equal = parsed->equal();
    term.text = parsed->value();
    term.nil_matches = term.text.empty();
    term.bytes = FromHex(term.text);
    term.id_ok = !term.bytes.empty();
    term.number_ok =
        absl::SimpleAtoi(term.text, &term.number) && absl::StrCat(term.number) == term.text;
    for (int v = 0; v < static_cast<int>(term.enum_matches.size()); ++v) {
      if (term.column == Column::kState && proto::TaskState_IsValid(v)) {
        term.enum_matches[v] =
            absl::EqualsIgnoreCase(TaskStateName(static_cast<proto::TaskState>(v)), term.text);
      } else if (term.column == Column::kType && proto::TaskType_IsValid(v)) {
        term.enum_matches[v] =
            absl::EqualsIgnoreCase(TaskTypeName(static_cast<proto::TaskType>(v)), term.text);
      }
    }
    out.terms_.push_back(std::move(term));
  }
  return out;
}

bool TaskRecordMatcher::Matches(const Record& record) const {
  for (const Term& term : terms_) {
    if (TermMatches(term, record) != term.equal) return false;
  }
  return true;
}

// Whether the record's column reads as the term's value.
bool TaskRecordMatcher::TermMatches(const Term& t, const Record& r) const {
  static const std::string kEmpty;
  const auto* d = r.descriptive.get();
  const auto* x = r.execution.get();
  auto enum_match = [&t](int v) {
    return v >= 0 && v < static_cast<int>(t.enum_matches.size()) && t.enum_matches[v];
  };
  switch (t.column) {
    case Column::kTaskId:
      return IdEquals(r.key.task_id, t.nil_matches, t.id_ok, t.bytes);
    case Column::kAttempt:
      return t.number_ok && t.number == r.key.attempt;
    case Column::kName:
      return absl::EqualsIgnoreCase(d ? d->name : kEmpty, t.text);
    case Column::kState:
      return enum_match(static_cast<int>(r.state));
    case Column::kJobId:
      return IdEquals(r.job_id, t.nil_matches, t.id_ok, t.bytes);
    case Column::kActorId:
      return IdEquals(d ? d->actor_id : ActorId(), t.nil_matches, t.id_ok, t.bytes);
    case Column::kType:
      return enum_match(static_cast<int>(d ? d->type : proto::NORMAL_TASK));
    case Column::kFunc:
      return absl::EqualsIgnoreCase(d ? d->func_or_class_name : kEmpty, t.text);
    case Column::kParentTaskId:
      return IdEquals(d ? d->parent_task_id : TaskId(), t.nil_matches, t.id_ok, t.bytes);
    case Column::kNodeId:
      return IdEquals(x ? x->node_id : NodeId(), t.nil_matches, t.id_ok, t.bytes);
    case Column::kWorkerId:
      return IdEquals(x ? x->worker_id : WorkerId(), t.nil_matches, t.id_ok, t.bytes);
    case Column::kWorkerPid: {
      const int32_t pid = x ? x->worker_pid : 0;
      return pid == 0 ? t.nil_matches : (t.number_ok && t.number == pid);
    }
    case Column::kErrorType:
      return absl::EqualsIgnoreCase(r.error ? r.error->first : kEmpty, t.text);
  }
  return false;
}

}  // namespace moray::gcs
