// POST /v1/predict and POST / (the source challenge's shape): request validation, arm
// routing (canary or shadow), scoring, the response and the prediction log line.

#include <cctype>
#include <chrono>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "serving/json_writer.h"
#include "serving/scorer.h"
#include "serving/service.h"
#include "serving/service_internal.h"

namespace riskpipe::serving {

using json = nlohmann::json;

namespace {

// Customer ids are at most this long: far above any real key, small enough for logs.
constexpr size_t kMaxIdLength = 128;

struct PredictInput {
  std::string customer_id;  // empty when the request has none
  json id_value;            // the id as sent (number or string), echoed by POST /
  const json* features = nullptr;
  bool reasons = true;
};

// Reads the request body; on failure returns the field and the problem.
bool ParseInput(const json& body, bool challenge_shape, PredictInput& in, std::string& field,
                std::string& problem) {
  if (!body.is_object()) {
    problem = "the body must be a JSON object";
    return false;
  }
  for (const auto& [key, value] : body.items()) {
    if (key == "id") {
      if (value.is_string()) {
        in.customer_id = value.get<std::string>();
      } else if (value.is_number_integer()) {
        in.customer_id = value.dump();
      } else {
        field = "id";
        problem = "expected a string or an integer";
        return false;
      }
      if (in.customer_id.empty() || in.customer_id.size() > kMaxIdLength) {
        field = "id";
        problem = "must be 1 to " + std::to_string(kMaxIdLength) + " characters";
        return false;
      }
      in.id_value = value;
    } else if (key == "features" && !challenge_shape) {
      if (!value.is_object()) {
        field = "features";
        problem = "expected an object of feature: value";
        return false;
      }
      in.features = &value;
    } else if (key == "reasons" && !challenge_shape) {
      if (!value.is_boolean()) {
        field = "reasons";
        problem = "expected true or false";
        return false;
      }
      in.reasons = value.get<bool>();
    } else {
      field = key;
      problem = challenge_shape ? "unknown field (POST / takes {\"id\": ...} only)"
                                : "unknown field (expected id, features, reasons)";
      return false;
    }
  }
  if (in.customer_id.empty() && in.features == nullptr) {
    field = challenge_shape ? "id" : "id";
    problem = challenge_shape ? "missing" : "missing: send \"id\" or \"features\"";
    return false;
  }
  return true;
}

// True for a JSON string that spells a non-finite number ("NaN", "Infinity", "-inf", ...):
// JSON has no such numbers, so a client that has one sends it as text.
bool SpellsNonFinite(std::string_view text) {
  std::string t;
  for (const char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.erase(0, 1);
  return t == "nan" || t == "inf" || t == "infinity";
}

// Validates inline features against `m`'s input schema into `out`. 0 when valid, else the
// HTTP status with the field and the problem: 400 for a value of the wrong kind, 422 for a
// number the model cannot score (spelled as text, or beyond float's range).
int InlineRow(const LoadedModel& m, const json& features, std::vector<RowValue>& out,
              std::string& field, std::string& problem) {
  const auto& specs = m.package->preprocessor().features();
  out.assign(specs.size(), RowValue{});
  for (const auto& [key, value] : features.items()) {
    bool known = false;
    for (const auto& spec : specs) known = known || spec.name == key;
    if (!known) {
      field = "features." + key;
      problem = "not an input of model " + m.id;
      return 400;
    }
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    const auto it = features.find(spec.name);
    field = "features." + spec.name;
    if (it == features.end()) {
      problem = "missing (send null when the value is unknown)";
      return 400;
    }
    if (it->is_null()) continue;
    if (spec.categorical) {
      if (!it->is_string()) {
        problem = "expected a text level or null";
        return 400;
      }
      const std::string& level = it->get_ref<const std::string&>();
      bool seen = spec.other;  // unseen levels share the "other" column when it exists
      for (const auto& l : spec.levels) seen = seen || l == level;
      if (!seen) {
        problem = "\"" + level + "\" is not a level the model knows";
        return 400;
      }
      out[i].missing = false;
      out[i].text = level;
    } else {
      if (it->is_string() && SpellsNonFinite(it->get_ref<const std::string&>())) {
        problem = it->dump() + " is not a finite number: no decision (refer to manual review)";
        return 422;
      }
      if (!it->is_number()) {
        problem = "expected a number or null";
        return 400;
      }
      const double v = it->get<double>();
      if (!model::FitsModelInput(v)) {
        problem = model::UnscorableInputText(spec.name, v) +
                  ": no decision (refer to manual review)";
        return 422;
      }
      out[i].missing = false;
      out[i].number = v;
    }
  }
  field.clear();
  return 0;
}

}  // namespace

void Service::Predict(Call& call, bool challenge_shape) {
  const auto start = std::chrono::steady_clock::now();
  const ServingState& s = *call.state;
  if (!s.champion) {
    call.Error(503, "not_ready", "no production model is loaded");
    return;
  }
  const json body = json::parse(call.request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    call.Error(400, "malformed_json", "the request body is not valid JSON");
    return;
  }
  PredictInput in;
  std::string field, problem;
  if (!ParseInput(body, challenge_shape, in, field, problem)) {
    call.Error(400, "invalid_field", field.empty() ? problem : field + ": " + problem);
    return;
  }
  // Arm: a canary customer gets the challenger's answer; shadow scores both.
  const config::ChallengerDef& ch = options_.challenger;
  const bool have_challenger = s.challenger != nullptr;
  const bool canary = have_challenger && ch.mode == config::ChallengerMode::kCanary &&
                      !in.customer_id.empty() && InCanary(in.customer_id, ch.percent);
  const bool shadow = have_challenger && ch.mode == config::ChallengerMode::kShadow;
  const LoadedModel& m = canary ? *s.challenger : *s.champion;
  const std::vector<int>& columns = canary ? s.challenger_columns : s.champion_columns;

  std::vector<RowValue> values;
  std::optional<size_t> row;
  if (in.features != nullptr) {
    if (const int status = InlineRow(m, *in.features, values, field, problem); status != 0) {
      call.Error(status, status == 422 ? "non_finite_input" : "invalid_field",
                 field + ": " + problem);
      return;
    }
  } else {
    if (!s.snapshot) {
      call.Error(503, "not_ready", "no online snapshot is loaded (run `riskpipe materialize`)");
      return;
    }
    row = s.snapshot->Find(in.customer_id);
    if (!row) {
      call.Error(
          404, "customer_not_found",
          "customer " + in.customer_id + " is not in online snapshot " + s.snapshot->version());
      return;
    }
    values.resize(m.feature_names.size());
    SnapshotRow(m, *s.snapshot, *row, columns, values);
  }
  const bool with_reasons = in.reasons && !challenge_shape;
  RowPrediction p;
  if (Status st = ScoreRow(m, values, with_reasons ? &options_.reasons : nullptr, p); !st.ok()) {
    call.Error(500, "scoring_failed", st.message());
    return;
  }
  // No decision on a PD that is not a number: the caller gets 422 naming the input (the
  // application goes to manual review), never an approve.
  if (p.decision == model::Decision::kRefer) {
    if (p.unscorable_feature >= 0) {
      const std::string& name = m.feature_names[static_cast<size_t>(p.unscorable_feature)];
      const std::string where =
          row ? " (online snapshot " + s.snapshot->version() + ", customer " + in.customer_id + ")"
              : "";
      call.Error(422, "non_finite_input",
                 "features." + name + where + ": " +
                     model::UnscorableInputText(name, p.unscorable_value) +
                     ": no decision (refer to manual review)");
    } else {
      call.Error(422, "non_finite_pd",
                 "model " + m.id + " gave no finite PD for this application: no decision "
                 "(refer to manual review)");
    }
    return;
  }
  // Shadow: the challenger scores the same customer; its answer is logged, never returned.
  RowPrediction shadow_p;
  std::string shadow_error;
  if (shadow) {
    const LoadedModel& c = *s.challenger;
    std::vector<RowValue> cv;
    std::string f2, p2;
    if (in.features != nullptr) {
      if (InlineRow(c, *in.features, cv, f2, p2) != 0) shadow_error = f2 + ": " + p2;
    } else {
      cv.resize(c.feature_names.size());
      SnapshotRow(c, *s.snapshot, *row, s.challenger_columns, cv);
    }
    if (shadow_error.empty()) {
      if (Status st = ScoreRow(c, cv, nullptr, shadow_p); !st.ok()) shadow_error = st.message();
    }
  }
  metrics_->CountPrediction(call.request.worker, canary, shadow);
  const double latency_us =
      static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count() /
                          100) /
      10.0;
  const auto& policy = m.package->policy();

  JsonWriter w;
  w.Reserve(512);
  w.BeginObject();
  if (challenge_shape) {
    w.Key("id");
    w.Raw(in.id_value.dump());
    w.Field("probability", p.pd);
    w.Field("prediction", static_cast<int64_t>(p.decision == model::Decision::kDecline ? 1 : 0));
    w.Field("model_version", m.id);
  } else {
    w.Field("request_id", call.request.request_id);
    if (!in.customer_id.empty()) w.Field("customer_id", in.customer_id);
    w.Field("pd", p.pd);
    w.Field("score_band", p.band);
    w.Field("decision", model::DecisionName(p.decision));
    w.Field("threshold", policy.threshold);
    if (with_reasons) {
      w.Key("reason_codes");
      w.BeginArray();
      for (size_t k = 0; k < p.reason_count; ++k) {
        const std::string& f = m.feature_names[p.reason_feature[k]];
        w.BeginObject();
        w.Field("code", f);
        w.Field("text", options_.reasons.Text(f));
        w.Field("contribution", p.reason_contribution[k]);
        w.EndObject();
      }
      w.EndArray();
      w.Field("reason_table_version", options_.reasons.version());
    }
    w.Key("model");
    w.BeginObject();
    w.Field("id", m.id);
    w.Field("name", m.name);
    w.Field("version", m.version);
    w.Field("family", m.family);
    w.EndObject();
    w.Field("arm", canary ? "challenger" : "champion");
    if (row) {
      w.Field("features_as_of", s.snapshot->as_of().ToString());
      w.Field("snapshot_version", s.snapshot->version());
    }
  }
  w.EndObject();
  call.response.body = w.Take();

  if (predictions_ == nullptr) return;
  // The prediction log: ids, versions and outcomes only (no feature values, no PII).
  JsonWriter l;
  l.Reserve(384);
  l.BeginObject();
  l.Field("ts", internal::UtcNowIso());
  l.Field("request_id", call.request.request_id);
  l.Field("customer_id", in.customer_id);
  l.Field("source", in.features != nullptr ? "inline" : "online_store");
  l.Field("endpoint", challenge_shape ? "/" : "/v1/predict");
  l.Field("arm", canary ? "challenger" : "champion");
  l.Field("model", m.id);
  l.Field("champion", s.champion->id);
  if (have_challenger) l.Field("challenger", s.challenger->id);
  l.Field("pd", p.pd);
  l.Field("decision", model::DecisionName(p.decision));
  l.Field("score_band", p.band);
  l.Field("threshold", policy.threshold);
  if (row) l.Field("snapshot", s.snapshot->version());
  if (with_reasons) {
    l.Key("reasons");
    l.BeginArray();
    for (size_t k = 0; k < p.reason_count; ++k) l.String(m.feature_names[p.reason_feature[k]]);
    l.EndArray();
    l.Field("reason_table_version", options_.reasons.version());
  }
  if (shadow) {
    l.Key("shadow");
    l.BeginObject();
    l.Field("model", s.challenger->id);
    if (shadow_error.empty()) {
      l.Field("pd", shadow_p.pd);
      l.Field("decision", model::DecisionName(shadow_p.decision));
      l.Field("score_band", shadow_p.band);
    } else {
      l.Field("error", shadow_error);
    }
    l.EndObject();
  }
  l.Field("latency_us", latency_us);
  l.EndObject();
  predictions_->Append(l.str());
}

}  // namespace riskpipe::serving
