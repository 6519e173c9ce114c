#include "features/dataset.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "core/hash.h"
#include "datamart/datamart.h"
#include "features/feature_query.h"
#include "features/training_set.h"

namespace riskpipe::features {
namespace fs = std::filesystem;
model::Frame ToFrame(db::ColumnarTable table) {
  model::Frame frame;
  frame.rows = table.rows;
  for (auto& c : table.columns) {
    model::FrameColumn col;
    col.name = std::move(c.name);
    col.text = c.is_text();
    col.sql_type = std::string(db::TypeSql(c.type));
    col.numbers = std::move(c.numbers);
    col.codes = std::move(c.codes);
    col.dictionary = std::move(c.dictionary);
    frame.columns.push_back(std::move(col));
  }
  return frame;
}

namespace {

// A stable fingerprint of the loaded rows (column names, values, dictionaries): the hash of
// the per-column hashes, so no copy of the data is made.
std::string FrameHash(const model::Frame& frame) {
  std::string hashes;
  for (const auto& c : frame.columns) {
    hashes += c.name;
    hashes.push_back('\x1f');
    if (c.text) {
      std::string dict;
      for (const auto& d : c.dictionary) dict += d + '\x1e';
      hashes += Sha256Hex(dict);
      hashes += Sha256Hex(std::string_view(reinterpret_cast<const char*>(c.codes.data()),
                                           c.codes.size() * sizeof(int32_t)));
    } else {
      hashes += Sha256Hex(std::string_view(reinterpret_cast<const char*>(c.numbers.data()),
                                           c.numbers.size() * sizeof(double)));
    }
  }
  return Sha256Hex(hashes);
}

// Partitions of a table up to `cutoff` with the sha256 of each file in them.
StatusOr<nlohmann::json> PartitionHashes(const datamart::Datamart& mart, datamart::Layer layer,
                                         const std::string& table, Date cutoff) {
  nlohmann::json parts = nlohmann::json::array();
  for (Date d : mart.ListPartitions(layer, table)) {
    if (d > cutoff) continue;
    const fs::path dir = mart.PartitionDir(layer, table, d);
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".parquet") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      ASSIGN_OR_RETURN(std::string h, Sha256File(f));
      parts.push_back({{"partition", d.ToString()},
                       {"file", fs::relative(f, mart.root()).string()},
                       {"sha256", h}});
    }
  }
  return nlohmann::json{{"layer", std::string(datamart::LayerName(layer))},
                        {"table", table},
                        {"partitions", std::move(parts)}};
}

std::vector<uint8_t> LabelsFrom(const model::FrameColumn& col, std::string_view positive,
                                std::string& problem) {
  std::vector<uint8_t> y(col.text ? col.codes.size() : col.numbers.size());
  if (col.text) {
    for (size_t i = 0; i < y.size(); ++i) {
      y[i] = col.codes[i] >= 0 && col.dictionary[col.codes[i]] == positive;
    }
    return y;
  }
  double pos = 1;
  try {
    pos = std::stod(std::string(positive));
  } catch (const std::exception&) {
    problem =
        "the target is numeric but positive: \"" + std::string(positive) + "\" is not a number";
    return {};
  }
  for (size_t i = 0; i < y.size(); ++i) y[i] = col.numbers[i] == pos;
  return y;
}

StatusOr<TrainingData> LoadFromStores(const config::Project& project, db::Connection& con,
                                      Date cutoff) {
  const config::ModelDef& model = *project.model;
  features::TrainingSetRequest request;
  request.cutoff = cutoff;
  request.from = model.splits.train->from;
  request.to = model.splits.oot->to;
  ASSIGN_OR_RETURN(std::string sql, features::TrainingSetSql(project, con, request));
  const auto& spine = project.features.spine;
  ASSIGN_OR_RETURN(
      db::ColumnarTable table,
      con.QueryColumns("SELECT * EXCLUDE (label_available_date) FROM (" + sql + ") ORDER BY " +
                       std::string(features::kDecisionDate) + ", " + db::QuoteIdent(spine.key)));
  TrainingData data;
  data.cutoff = cutoff;
  data.frame = ToFrame(std::move(table));
  data.id_column = spine.key;
  const int label = data.frame.Find("label");
  const int date = data.frame.Find(features::kDecisionDate);
  if (label < 0 || date < 0) return InternalError("training set lacks label or decision_date");
  for (double v : data.frame.columns[label].numbers) data.labels.push_back(v == 1);
  for (double v : data.frame.columns[date].numbers)
    data.decision_days.push_back(static_cast<int32_t>(v));
  const std::set<std::string> excluded(model.exclude.begin(), model.exclude.end());
  const std::set<std::string> protected_set(model.protected_attributes.begin(),
                                            model.protected_attributes.end());
  for (const auto& view : project.features.views) {
    for (const auto& f : view.features) {
      if (excluded.count(f.name) || protected_set.count(f.name)) continue;
      data.features.push_back(f.name);
    }
  }
  for (const std::string& name : model.exclude) {
    if (data.frame.Find(name) < 0) {
      return InvalidArgumentError("model.exclude: \"" + name + "\" is not a feature");
    }
  }
  // Lineage: every table the training set reads, with the content hash of each partition file.
  const datamart::Datamart mart(project.workspace.datamart());
  std::set<std::string> tables = {spine.source};
  for (const auto& view : project.features.views) {
    if (!view.source.empty()) tables.insert(view.source);
  }
  nlohmann::json inputs = nlohmann::json::array();
  for (const std::string& t : tables) {
    ASSIGN_OR_RETURN(nlohmann::json h, PartitionHashes(mart, datamart::Layer::kSilver, t, cutoff));
    inputs.push_back(std::move(h));
  }
  ASSIGN_OR_RETURN(
      nlohmann::json labels,
      PartitionHashes(mart, datamart::Layer::kGold, "label_store", Date::FromCivil(9999, 12, 31)));
  inputs.push_back(std::move(labels));
  data.lineage = {{"source", "feature and label stores (historical retrieval)"},
                  {"label_def", project.label ? project.label->name : ""},
                  {"cutoff", cutoff.ToString()},
                  {"feature_set_version", project.features.version},
                  {"inputs", std::move(inputs)}};
  return data;
}

StatusOr<TrainingData> LoadFromFile(const config::Project& project, db::Connection& con) {
  const config::DatasetDef& d = *project.model->dataset;
  if (!fs::exists(d.file)) {
    return NotFoundError("model.dataset.file: " + d.file.string() + " does not exist");
  }
  const bool parquet = d.file.extension() == ".parquet";
  const std::string reader =
      (parquet ? "read_parquet(" : "read_csv_auto(") + db::QuoteLiteral(d.file.string()) + ")";
  ASSIGN_OR_RETURN(db::Table shape, con.Query("SELECT * FROM " + reader + " LIMIT 0"));
  if (shape.ColumnIndex(d.target) < 0) {
    std::string cols;
    for (const auto& c : shape.columns) cols += (cols.empty() ? "" : ", ") + c;
    return InvalidArgumentError("model.dataset.target: \"" + d.target + "\" is not a column of " +
                                d.file.string() + " (columns: " + cols + ")");
  }
  for (const std::string* col : {&d.id, &d.date}) {
    if (!col->empty() && shape.ColumnIndex(*col) < 0) {
      return InvalidArgumentError("model.dataset: \"" + *col + "\" is not a column of " +
                                  d.file.string());
    }
  }
  // Every column is read as it was typed by DuckDB's sniffer; the row number is the id.
  std::string select = d.id.empty() ? "SELECT row_number() OVER () AS _row_id, * FROM " + reader
                                    : "SELECT * FROM " + reader;
  ASSIGN_OR_RETURN(db::ColumnarTable table, con.QueryColumns(select));
  TrainingData data;
  data.frame = ToFrame(std::move(table));
  data.id_column = d.id.empty() ? "_row_id" : d.id;
  std::string problem;
  const model::FrameColumn& target = data.frame.columns[data.frame.Find(d.target)];
  int64_t missing_target = 0;
  for (size_t i = 0; i < data.frame.rows; ++i) missing_target += target.IsMissing(i);
  if (missing_target > 0) {
    return InvalidArgumentError("model.dataset.target: " + std::to_string(missing_target) +
                                " rows of " + d.file.string() + " have no \"" + d.target +
                                "\" value; remove or fill them");
  }
  data.labels = LabelsFrom(target, d.positive, problem);
  if (!problem.empty()) return InvalidArgumentError("model.dataset.positive: " + problem);
  if (!d.date.empty()) {
    const model::FrameColumn& date = data.frame.columns[data.frame.Find(d.date)];
    if (date.sql_type != "DATE") {
      return InvalidArgumentError("model.dataset.date: \"" + d.date + "\" was not read as a date");
    }
    for (double v : date.numbers) {
      if (std::isnan(v)) return InvalidArgumentError("model.dataset.date: a row has no date");
      data.decision_days.push_back(static_cast<int32_t>(v));
    }
  }
  const std::set<std::string> excluded(project.model->exclude.begin(),
                                       project.model->exclude.end());
  const std::set<std::string> protected_set(project.model->protected_attributes.begin(),
                                            project.model->protected_attributes.end());
  nlohmann::json schema = nlohmann::json::array();
  for (const auto& c : data.frame.columns) {
    std::string role = "feature";
    if (c.name == "_row_id" || c.name == d.id)
      role = "id";
    else if (c.name == d.target)
      role = "target";
    else if (c.name == d.date)
      role = "date";
    else if (excluded.count(c.name))
      role = "excluded";
    else if (protected_set.count(c.name))
      role = "protected (not an input)";
    else if (c.sql_type == "DATE" || c.sql_type == "TIMESTAMP") {
      role = "excluded (date)";
      data.warnings.push_back("column \"" + c.name + "\" is a date and is not used as a feature");
    }
    if (role == "feature") data.features.push_back(c.name);
    schema.push_back(
        {{"column", c.name},
         {"inferred_type", c.text ? "categorical (text)" : "numeric (" + c.sql_type + ")"},
         {"role", role}});
  }
  ASSIGN_OR_RETURN(std::string file_hash, Sha256File(d.file));
  data.lineage = {{"source", "file"},       {"file", d.file.string()},
                  {"sha256", file_hash},    {"target", d.target},
                  {"positive", d.positive}, {"inferred_schema", std::move(schema)}};
  return data;
}

}  // namespace

// The project as it was when `meta` (a package's metadata.json) was trained: its splits and
// seed, so LoadTrainingData and MakeSplits give back the development rows.
StatusOr<config::Project> ProjectAsTrained(const config::Project& project,
                                           const nlohmann::json& meta) {
  if (!project.model) return FailedPreconditionError("no `model:` section to rebuild the sample");
  config::Project p = project;
  const nlohmann::json tc = meta.value("training_config", nlohmann::json::object());
  p.model->seed = tc.value("seed", p.model->seed);
  const nlohmann::json splits = tc.value("splits", nlohmann::json::object());
  if (splits.contains("train")) {
    auto range = [&](const char* key) -> StatusOr<config::MonthRange> {
      const auto v = splits.at(key).get<std::vector<std::string>>();
      if (v.size() != 2)
        return InvalidArgumentError("metadata.json: bad split " + std::string(key));
      ASSIGN_OR_RETURN(Month from, Month::Parse(v[0]));
      ASSIGN_OR_RETURN(Month to, Month::Parse(v[1]));
      return config::MonthRange{from, to};
    };
    ASSIGN_OR_RETURN(p.model->splits.train, range("train"));
    ASSIGN_OR_RETURN(p.model->splits.validation, range("validation"));
    ASSIGN_OR_RETURN(p.model->splits.oot, range("oot"));
  } else if (splits.contains("validation_fraction")) {
    p.model->splits = config::Splits{};
    p.model->splits.validation_fraction = splits.value("validation_fraction", 0.2);
    p.model->splits.test_fraction = splits.value("test_fraction", 0.2);
  }
  return p;
}

StatusOr<TrainingData> LoadTrainingData(const config::Project& project, db::Connection& con,
                                        Date cutoff) {
  if (!project.model) {
    return FailedPreconditionError(project.config_path.string() +
                                   ": no `model:` section, so there is nothing to train");
  }
  StatusOr<TrainingData> data =
      project.model->dataset ? LoadFromFile(project, con) : LoadFromStores(project, con, cutoff);
  if (!data.ok()) return data;
  data->rows_sha256 = FrameHash(data->frame);
  if (data->features.empty()) return InvalidArgumentError("model: no feature columns to train on");
  return data;
}

StatusOr<SplitRows> MakeSplits(const TrainingData& data, const config::ModelDef& model) {
  SplitRows s;
  const size_t n = data.labels.size();
  if (!model.splits.random()) {
    if (data.decision_days.empty()) {
      return InvalidArgumentError(
          "model.splits: time splits need a date column (model.dataset.date)");
    }
    for (size_t i = 0; i < n; ++i) {
      const Month m = Month::Of(Date::FromDays(data.decision_days[i]));
      if (m >= model.splits.train->from && m <= model.splits.train->to)
        s.train.push_back(i);
      else if (m >= model.splits.validation->from && m <= model.splits.validation->to)
        s.validation.push_back(i);
      else if (m >= model.splits.oot->from && m <= model.splits.oot->to)
        s.oot.push_back(i);
    }
    auto range = [](const config::MonthRange& r) {
      return nlohmann::json{{"from", r.from.ToString()}, {"to", r.to.ToString()}};
    };
    s.description = {{"kind", "time"},
                     {"by", "decision (application) month"},
                     {"train", range(*model.splits.train)},
                     {"validation", range(*model.splits.validation)},
                     {"oot", range(*model.splits.oot)}};
  } else {
    // Stratified: shuffle each class with the seed, then cut by the fractions.
    s.out_of_time = false;
    std::mt19937_64 rng(model.seed);
    for (uint8_t cls : {uint8_t{0}, uint8_t{1}}) {
      std::vector<uint32_t> idx;
      for (size_t i = 0; i < n; ++i) {
        if (data.labels[i] == cls) idx.push_back(i);
      }
      for (size_t i = idx.size(); i > 1; --i) {
        std::swap(idx[i - 1], idx[rng() % i]);
      }
      const size_t n_test =
          static_cast<size_t>(std::llround(idx.size() * model.splits.test_fraction));
      const size_t n_val =
          static_cast<size_t>(std::llround(idx.size() * model.splits.validation_fraction));
      s.oot.insert(s.oot.end(), idx.begin(), idx.begin() + n_test);
      s.validation.insert(s.validation.end(), idx.begin() + n_test, idx.begin() + n_test + n_val);
      s.train.insert(s.train.end(), idx.begin() + n_test + n_val, idx.end());
    }
    for (auto* v : {&s.train, &s.validation, &s.oot}) std::sort(v->begin(), v->end());
    s.description = {{"kind", "random (stratified)"},
                     {"seed", model.seed},
                     {"validation_fraction", model.splits.validation_fraction},
                     {"test_fraction", model.splits.test_fraction},
                     {"warning",
                      "no out-of-time test: the test rows come from the same period "
                      "as the training rows, so drift over time is not measured"}};
  }
  auto count = [&](const std::vector<uint32_t>& rows) {
    int64_t pos = 0;
    for (uint32_t r : rows) pos += data.labels[r];
    return nlohmann::json{
        {"rows", rows.size()},
        {"defaults", pos},
        {"default_rate", rows.empty() ? 0.0 : static_cast<double>(pos) / rows.size()}};
  };
  s.description["counts"] = {
      {"train", count(s.train)}, {"validation", count(s.validation)}, {"oot", count(s.oot)}};
  return s;
}

}  // namespace riskpipe::features
