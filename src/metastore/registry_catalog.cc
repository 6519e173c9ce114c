// The model registry catalog of the metastore (schema version 2): the `models` and
// `model_events` tables. docs/registry.md describes the tables and the stage machine that
// src/registry builds on these methods.

#include <utility>

#include "metastore/guard.h"
#include "metastore/metastore.h"
#include "metastore/sqlite.h"

namespace riskpipe::metastore {
namespace {

constexpr std::string_view kModelColumns =
    "model_id, name, version, stage, family, COALESCE(run_id, 0), created_by, registered_at, "
    "metrics_json";
constexpr std::string_view kEventColumns =
    "event_id, model_id, name, event, COALESCE(from_stage, ''), COALESCE(to_stage, ''), actor, "
    "reason, at, details_json";

ModelRow ReadModel(const Statement& row) {
  ModelRow m;
  m.model_id = row.ColumnText(0);
  m.name = row.ColumnText(1);
  m.version = row.ColumnInt64(2);
  m.stage = row.ColumnText(3);
  m.family = row.ColumnText(4);
  m.run_id = row.ColumnInt64(5);
  m.created_by = row.ColumnText(6);
  m.registered_at = row.ColumnText(7);
  m.metrics_json = row.ColumnText(8);
  return m;
}

ModelEventRow ReadEvent(const Statement& row) {
  ModelEventRow e;
  e.event_id = row.ColumnInt64(0);
  e.model_id = row.ColumnText(1);
  e.name = row.ColumnText(2);
  e.event = row.ColumnText(3);
  e.from_stage = row.ColumnText(4);
  e.to_stage = row.ColumnText(5);
  e.actor = row.ColumnText(6);
  e.reason = row.ColumnText(7);
  e.at = row.ColumnText(8);
  e.details_json = row.ColumnText(9);
  return e;
}

// SQLite's json_type of `json`, or "" when it is not valid JSON.
StatusOr<std::string> JsonType(Database& db, std::string_view json) {
  ASSIGN_OR_RETURN(
      Statement query,
      PrepareBound(db, "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) END", json));
  ASSIGN_OR_RETURN(const bool row, query.Step());
  return row ? query.ColumnText(0) : std::string();
}

Status CheckChange(Database& db, const ModelChange& c) {
  const std::string what = "metastore " + db.path().string() + ": " + c.model_id + ": ";
  if (c.event.empty()) return InvalidArgumentError(what + "event without a name");
  if (c.actor.empty()) return InvalidArgumentError(what + c.event + ": no actor");
  if (c.from_stage.empty() != c.to_stage.empty()) {
    return InvalidArgumentError(what + c.event + ": from_stage and to_stage go together");
  }
  ASSIGN_OR_RETURN(const std::string type, JsonType(db, c.details_json));
  if (type.empty()) return InvalidArgumentError(what + c.event + ": details are not valid JSON");
  return OkStatus();
}

// Applies one change inside the caller's transaction; returns the appended event.
StatusOr<ModelEventRow> ApplyChange(Database& db, const ModelChange& c, const std::string& at) {
  RETURN_IF_ERROR(CheckChange(db, c));
  const std::string what = "metastore " + db.path().string() + ": " + c.model_id;
  ASSIGN_OR_RETURN(Statement find, PrepareBound(db,
                                                "SELECT name, stage FROM models "
                                                "WHERE model_id = ?1",
                                                c.model_id));
  ASSIGN_OR_RETURN(const bool found, find.Step());
  if (!found) return NotFoundError(what + ": no such model");
  const std::string name = find.ColumnText(0);
  const std::string stage = find.ColumnText(1);
  if (!c.from_stage.empty() && stage != c.from_stage) {
    return FailedPreconditionError(what + " is " + stage + ", not " + c.from_stage +
                                   " (changed meanwhile?)");
  }
  if (!c.from_stage.empty() && c.to_stage != c.from_stage) {
    if (c.to_stage == "production") {
      ASSIGN_OR_RETURN(Statement other,
                       PrepareBound(db,
                                    "SELECT model_id FROM models WHERE name = ?1 AND "
                                    "stage = 'production' AND model_id <> ?2",
                                    name, c.model_id));
      ASSIGN_OR_RETURN(const bool busy, other.Step());
      if (busy) {
        return FailedPreconditionError(what + ": " + other.ColumnText(0) +
                                       " is already in production; one per model name");
      }
    }
    ASSIGN_OR_RETURN(Statement update,
                     PrepareBound(db, "UPDATE models SET stage = ?2 WHERE model_id = ?1",
                                  c.model_id, c.to_stage));
    RETURN_IF_ERROR(update.Run());
  }
  ASSIGN_OR_RETURN(
      Statement insert,
      PrepareBound(db,
                   "INSERT INTO model_events (model_id, name, event, from_stage, to_stage, actor, "
                   "reason, at, details_json) VALUES (?1, ?2, ?3, NULLIF(?4, ''), NULLIF(?5, ''), "
                   "?6, ?7, ?8, ?9)",
                   c.model_id, name, c.event, c.from_stage, c.to_stage, c.actor, c.reason, at,
                   c.details_json));
  RETURN_IF_ERROR(insert.Run());
  return ModelEventRow{db.LastInsertRowid(), c.model_id, name,     c.event, c.from_stage,
                       c.to_stage,           c.actor,    c.reason, at,      c.details_json};
}

}  // namespace

StatusOr<ModelRow> Metastore::RegisterModel(
    const NewModel& model,
    const std::function<StatusOr<std::string>(int64_t version, const std::string& at)>& publish) {
  return Guard(db_.get(), [&]() -> StatusOr<ModelRow> {
    const std::string what = "metastore " + db_->path().string() + ": register " + model.name;
    if (model.name.empty()) return InvalidArgumentError(what + ": empty model name");
    if (model.created_by.empty()) return InvalidArgumentError(what + ": empty created_by");
    ASSIGN_OR_RETURN(const std::string type, JsonType(*db_, model.metrics_json));
    if (type != "object") return InvalidArgumentError(what + ": metrics are not a JSON object");
    const std::string at = FormatUtcTimestamp(Now());
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    ASSIGN_OR_RETURN(Statement next,
                     PrepareBound(*db_,
                                  "SELECT COALESCE(MAX(version), 0) + 1 FROM models "
                                  "WHERE name = ?1",
                                  model.name));
    ASSIGN_OR_RETURN(const bool row, next.Step());
    if (!row) return InternalError(what + ": cannot read the highest version");
    ModelRow m{model.name + "/" + std::to_string(next.ColumnInt64(0)),
               model.name,
               next.ColumnInt64(0),
               "candidate",
               model.family,
               model.run_id,
               model.created_by,
               at,
               model.metrics_json};
    ASSIGN_OR_RETURN(const std::string details, publish(m.version, at));
    ASSIGN_OR_RETURN(
        Statement insert,
        PrepareBound(*db_,
                     "INSERT INTO models (model_id, name, version, stage, family, run_id, "
                     "created_by, registered_at, metrics_json) "
                     "VALUES (?1, ?2, ?3, 'candidate', ?4, ?5, ?6, ?7, ?8)",
                     m.model_id, m.name, m.version, m.family,
                     m.run_id == 0 ? std::optional<int64_t>() : std::optional<int64_t>(m.run_id),
                     m.created_by, at, m.metrics_json));
    RETURN_IF_ERROR(insert.Run());
    ASSIGN_OR_RETURN(
        Statement event,
        PrepareBound(*db_,
                     "INSERT INTO model_events (model_id, name, event, from_stage, to_stage, "
                     "actor, reason, at, details_json) "
                     "VALUES (?1, ?2, 'registered', NULL, 'candidate', ?3, '', ?4, ?5)",
                     m.model_id, m.name, m.created_by, at, details.empty() ? "{}" : details));
    RETURN_IF_ERROR(event.Run());
    RETURN_IF_ERROR(txn.Commit());
    return m;
  });
}

StatusOr<std::vector<ModelEventRow>> Metastore::ChangeModels(
    const std::function<StatusOr<std::vector<ModelChange>>()>& decide) {
  return Guard(db_.get(), [&]() -> StatusOr<std::vector<ModelEventRow>> {
    const std::string at = FormatUtcTimestamp(Now());
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
    ASSIGN_OR_RETURN(const std::vector<ModelChange> changes, decide());
    std::vector<ModelEventRow> events;
    for (const ModelChange& change : changes) {
      ASSIGN_OR_RETURN(ModelEventRow event, ApplyChange(*db_, change, at));
      events.push_back(std::move(event));
    }
    RETURN_IF_ERROR(txn.Commit());
    return events;
  });
}

StatusOr<std::optional<ModelRow>> Metastore::FindModel(std::string_view model_id) {
  return Guard(db_.get(), [&]() -> StatusOr<std::optional<ModelRow>> {
    ASSIGN_OR_RETURN(Statement query, PrepareBound(*db_,
                                                   "SELECT " + std::string(kModelColumns) +
                                                       " FROM models WHERE model_id = ?1",
                                                   model_id));
    ASSIGN_OR_RETURN(const bool row, query.Step());
    if (!row) return std::optional<ModelRow>();
    return std::optional<ModelRow>(ReadModel(query));
  });
}

StatusOr<std::vector<ModelRow>> Metastore::ListModels(const ModelFilter& filter) {
  return Guard(db_.get(), [&]() -> StatusOr<std::vector<ModelRow>> {
    if (filter.limit <= 0) {
      return InvalidArgumentError("metastore: ListModels: limit must be positive");
    }
    ASSIGN_OR_RETURN(Statement query,
                     PrepareBound(*db_,
                                  "SELECT " + std::string(kModelColumns) +
                                      " FROM models WHERE (?1 = '' OR name = ?1) AND "
                                      "(?2 = '' OR stage = ?2) ORDER BY model_seq DESC LIMIT ?3",
                                  filter.name, filter.stage, static_cast<int64_t>(filter.limit)));
    return ReadAll<ModelRow>(query, ReadModel);
  });
}

StatusOr<std::vector<ModelEventRow>> Metastore::ListModelEvents(const ModelEventFilter& filter) {
  return Guard(db_.get(), [&]() -> StatusOr<std::vector<ModelEventRow>> {
    ASSIGN_OR_RETURN(Statement query,
                     PrepareBound(*db_,
                                  "SELECT " + std::string(kEventColumns) +
                                      " FROM model_events WHERE (?1 = '' OR model_id = ?1) AND "
                                      "(?2 = '' OR name = ?2) ORDER BY event_id",
                                  filter.model_id, filter.name));
    return ReadAll<ModelEventRow>(query, ReadEvent);
  });
}

}  // namespace riskpipe::metastore
