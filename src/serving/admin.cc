// Health, readiness, metrics and the admin endpoints; small helpers of the Service.

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/hash.h"
#include "core/json.h"
#include "serving/json_writer.h"
#include "serving/service.h"
#include "serving/service_internal.h"

namespace riskpipe::serving {

using json = nlohmann::json;

namespace internal {

std::string UtcNowIso() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  // The formatted second is cached per thread: most requests share it with the previous one.
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[24];
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_secs = secs;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s.%03dZ", cached, static_cast<int>(ms.count() % 1000));
  return buf;
}

bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  // Equal-length digests compared without an early exit: the time does not depend on where
  // the keys differ, nor on their lengths.
  const std::string da = Sha256Hex(a), db = Sha256Hex(b);
  unsigned char diff = 0;
  for (size_t i = 0; i < da.size(); ++i) {
    diff |= static_cast<unsigned char>(da[i] ^ db[i]);
  }
  return diff == 0;
}

}  // namespace internal

namespace {

void ModelJson(JsonWriter& w, const LoadedModel* m) {
  if (m == nullptr) {
    w.Null();
    return;
  }
  w.BeginObject();
  w.Field("id", m->id);
  w.Field("name", m->name);
  w.Field("version", m->version);
  w.Field("family", m->family);
  w.EndObject();
}

void SnapshotJson(JsonWriter& w, const features::OnlineSnapshot* s) {
  if (s == nullptr) {
    w.Null();
    return;
  }
  w.BeginObject();
  w.Field("version", s->version());
  w.Field("as_of", s->as_of().ToString());
  w.Field("created_at", s->created_at());
  w.Field("customers", static_cast<int64_t>(s->rows()));
  w.EndObject();
}

// Seconds since an ISO-8601 UTC time such as 2024-06-01T12:00:00.123Z; NaN when unparsable.
double AgeSeconds(const std::string& iso) {
  std::tm tm{};
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return std::nan("");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::difftime(std::time(nullptr), timegm(&tm));
}

}  // namespace

void Service::Healthz(Call& call) { call.response.body = R"({"status":"ok"})"; }

void Service::Readyz(Call& call) {
  const ServingState& s = *call.state;
  JsonWriter w;
  w.BeginObject();
  w.Field("ready", s.ready());
  w.Key("champion");
  ModelJson(w, s.champion.get());
  w.Key("snapshot");
  SnapshotJson(w, s.snapshot.get());
  w.EndObject();
  call.response.status = s.ready() ? 200 : 503;
  call.response.body = w.Take();
}

void Service::MetricsText(Call& call) {
  const ServingState& s = *call.state;
  std::string out = metrics_->Text();
  char line[512];
  out +=
      "# HELP riskpipe_ready 1 when a production model and an online snapshot are loaded.\n"
      "# TYPE riskpipe_ready gauge\n";
  out += std::string("riskpipe_ready ") + (s.ready() ? "1" : "0") + "\n";
  out +=
      "# HELP riskpipe_model_info The loaded model versions by arm.\n"
      "# TYPE riskpipe_model_info gauge\n";
  for (const auto& [arm, m] :
       {std::pair{"champion", s.champion.get()}, std::pair{"challenger", s.challenger.get()}}) {
    if (m == nullptr) continue;
    std::snprintf(line, sizeof line,
                  "riskpipe_model_info{arm=\"%s\",model=\"%s\",version=\"%lld\",family=\"%s\"} 1\n",
                  arm, m->name.c_str(), static_cast<long long>(m->version), m->family.c_str());
    out += line;
  }
  if (s.snapshot) {
    std::snprintf(line, sizeof line,
                  "# HELP riskpipe_snapshot_age_seconds Seconds since the loaded online snapshot "
                  "was materialized.\n# TYPE riskpipe_snapshot_age_seconds gauge\n"
                  "riskpipe_snapshot_age_seconds %.3f\n"
                  "# HELP riskpipe_snapshot_customers Customers in the loaded online snapshot.\n"
                  "# TYPE riskpipe_snapshot_customers gauge\n"
                  "riskpipe_snapshot_customers %zu\n"
                  "riskpipe_snapshot_info{version=\"%s\",as_of=\"%s\"} 1\n",
                  AgeSeconds(s.snapshot->created_at()), s.snapshot->rows(),
                  s.snapshot->version().c_str(), s.snapshot->as_of().ToString().c_str());
    out += line;
  }
  const int64_t log_errors = (predictions_ ? predictions_->errors() : 0);
  out +=
      "# HELP riskpipe_prediction_log_errors_total Prediction log lines that failed to be "
      "written.\n# TYPE riskpipe_prediction_log_errors_total counter\n"
      "riskpipe_prediction_log_errors_total " +
      std::to_string(log_errors) + "\n";
  call.response.body = std::move(out);
  call.response.content_type = "text/plain; version=0.0.4; charset=utf-8";
}

bool Service::Authorized(Call& call) {
  if (options_.admin_key.empty()) {
    call.Error(403, "admin_disabled",
               "admin endpoints are disabled: start the server with an API key in $" +
                   options_.admin_key_env);
    return false;
  }
  if (call.request.api_key.empty()) {
    call.Error(401, "unauthorized", "send the admin API key in the X-API-Key header");
    return false;
  }
  if (!internal::SecretsEqual(call.request.api_key, options_.admin_key)) {
    call.Error(403, "forbidden", "the API key is not valid");
    return false;
  }
  return true;
}

void Service::AdminReload(Call& call) {
  if (!Authorized(call)) return;
  const ReloadReport report = store_->Check();
  const auto s = store_->state();
  JsonWriter w;
  w.BeginObject();
  w.Key("loaded");
  w.BeginArray();
  for (const auto& l : report.loaded) w.String(l);
  w.EndArray();
  w.Key("errors");
  w.BeginArray();
  for (const auto& e : report.errors) w.String(e);
  w.EndArray();
  w.Key("champion");
  ModelJson(w, s->champion.get());
  w.Key("challenger");
  ModelJson(w, s->challenger.get());
  w.Key("snapshot");
  SnapshotJson(w, s->snapshot.get());
  w.Field("request_id", call.request.request_id);
  w.EndObject();
  call.response.body = w.Take();
}

void Service::AdminRollback(Call& call) {
  if (!Authorized(call)) return;
  std::string by = "admin-api", reason = "rollback requested through POST /admin/rollback";
  if (!call.request.body.empty()) {
    const json body = json::parse(call.request.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) {
      call.Error(400, "malformed_json",
                 "the body must be a JSON object such as {\"by\", \"reason\"}");
      return;
    }
    for (const auto& [key, value] : body.items()) {
      if ((key != "by" && key != "reason") || !value.is_string() ||
          value.get_ref<const std::string&>().empty()) {
        call.Error(400, "invalid_field",
                   key + ": expected \"by\" or \"reason\" with a non-empty text");
        return;
      }
      (key == "by" ? by : reason) = value.get<std::string>();
    }
  }
  auto restored = store_->Rollback(by, reason);
  if (!restored.ok()) {
    call.Error(internal::HttpStatusOf(restored.status()), "rollback_failed",
               restored.status().message());
    return;
  }
  JsonWriter w;
  w.BeginObject();
  w.Field("restored", *restored);
  w.Field("by", by);
  w.Field("request_id", call.request.request_id);
  w.EndObject();
  call.response.body = w.Take();
}

void Service::AdminRouting(Call& call) {
  if (!Authorized(call)) return;
  const ServingState& s = *call.state;
  const config::ChallengerDef& ch = options_.challenger;
  JsonWriter w;
  w.BeginObject();
  w.Key("champion");
  ModelJson(w, s.champion.get());
  w.Key("challenger");
  if (ch.model.empty()) {
    w.Null();
  } else {
    w.BeginObject();
    w.Field("ref", ch.model);
    w.Field("mode", ch.mode == config::ChallengerMode::kShadow ? "shadow" : "canary");
    w.Field("percent", ch.mode == config::ChallengerMode::kShadow ? 0.0 : ch.percent);
    w.Key("loaded");
    ModelJson(w, s.challenger.get());
    w.Field("routing", "stable hash of customer_id (the same customer always gets the same arm)");
    w.EndObject();
  }
  w.Key("snapshot");
  SnapshotJson(w, s.snapshot.get());
  w.Field("reason_table_version", options_.reasons.version());
  w.Field("request_id", call.request.request_id);
  w.EndObject();
  call.response.body = w.Take();
}

}  // namespace riskpipe::serving
