#pragma once
// The project file (riskpipe.yaml) as typed structs. Parsing is strict: unknown keys, wrong
// types and missing required keys are errors that name the key path and the line, so a typo
// never silently changes what a pipeline does. Plain values; thread-safe once built.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/features.h"
#include "config/governance.h"
#include "config/model.h"
#include "config/pipeline.h"
#include "config/reason_codes.h"
#include "config/serving.h"
#include "config/validation.h"
#include "core/date.h"
#include "core/status.h"
#include "core/workspace.h"

namespace riskpipe::config {

enum class ColumnType { kString, kInt, kFloat, kDate, kCategory, kBool };
std::string_view ColumnTypeName(ColumnType t);

// What happens to a value that fails its column's checks (type, range, levels).
enum class OnInvalid {
  kNull,        // the value becomes null and the row stays (counted per column)
  kQuarantine,  // the whole row goes to quarantine with the reason
};

enum class Pii {
  kNone,
  kDrop,  // the column never reaches silver
  kHash,  // silver holds <name>_sha256: salted SHA-256 of the value
};

// Named text rules applied, in order, to a raw value before it is parsed. Each is
// documented in docs/ingestion.md.
enum class Rule {
  kTrim,                 // strip surrounding spaces and tabs
  kStripUnderscores,     // strip leading/trailing '_' ("40_" -> "40", "__10000__" -> "10000")
  kYearsMonthsToMonths,  // "22 Years and 1 Months" -> 265
};
std::string_view RuleName(Rule r);

enum class DateFormat { kIso, kDayMonthYear };

struct Column {
  std::string name;
  ColumnType type = ColumnType::kString;
  std::string description;
  bool required = false;                 // null after cleaning -> quarantine
  std::vector<std::string> null_values;  // exact tokens that mean "missing" (after rules)
  std::vector<Rule> rules;
  std::optional<double> min, max;          // valid range for int/float (inclusive)
  std::optional<Date> min_date, max_date;  // valid range for dates (inclusive)
  std::vector<std::string> levels;         // allowed values for category
  std::vector<DateFormat> date_formats = {DateFormat::kIso};
  OnInvalid on_invalid = OnInvalid::kNull;
  Pii pii = Pii::kNone;
  int line = 0;  // where it was declared, for messages
};

enum class ExtraColumns { kError, kIgnore };

struct Source {
  std::string name;  // table name in the datamart
  std::string description;
  std::filesystem::path file;     // absolute after loading (resolved against the workspace)
  std::vector<std::string> keys;  // unique key columns: duplicates are quarantined
  std::string date_column;        // its month is the row's snapshot partition
  char delimiter = ',';
  ExtraColumns extra_columns = ExtraColumns::kError;
  std::vector<Column> columns;
  int line = 0;

  const Column* FindColumn(std::string_view name) const;
};

// The columns a source's silver table has: its declared columns without PII-dropped ones,
// PII-hashed ones as <name>_sha256, plus the partition column snapshot_date.
std::set<std::string> SilverColumns(const Source& source);

struct Project {
  std::string name;
  std::filesystem::path config_path;  // the file this came from
  Workspace workspace;                // absolute root
  // Salt for PII hashing. Taken from the environment variable named by pii_salt_env when set
  // there, else the literal pii_salt.
  std::string pii_salt;
  std::vector<Source> sources;
  // Folder of the data-quality expectation suites (`expectations:`, default "expectations"
  // beside this file); absolute. See config/expectations.h.
  std::filesystem::path expectations_dir;
  // The label definition (`label:`), absent when the project has none yet.
  std::optional<LabelDef> label;
  // Feature views (`features:`); empty when the project has none yet.
  FeatureSet features;
  // What to train (`model:`), absent when the project has none yet.
  std::optional<ModelDef> model;
  // Sections of the later modules; each has `present` false when not given.
  ValidationDef validation;     // config/validation.h
  GovernanceDef governance;     // config/governance.h
  ServingDef serving;           // config/serving.h
  PipelineDef pipeline;         // config/pipeline.h
  ReasonCodesDef reason_codes;  // config/reason_codes.h

  const Source* FindSource(std::string_view name) const;
  // The folders riskpipe itself reads and writes for this project, absolute: the workspace,
  // the project file's folder, the expectations folder and each source's and the model
  // dataset's folder. The databases that run project SQL may touch files only there
  // (db::Options::allowed_directories).
  std::vector<std::filesystem::path> DataDirectories() const;
};

// Loads and validates a project file. Relative paths resolve against the file's folder
// (workspace) and the workspace (source files). NotFound when the file is missing;
// InvalidArgument "<file>:<line>: <key path>: <problem>" for anything wrong inside it.
StatusOr<Project> LoadProject(const std::filesystem::path& path);
// Same, from YAML text; `origin` names it in messages and anchors relative paths.
StatusOr<Project> ParseProject(std::string_view yaml_text, const std::filesystem::path& origin);

}  // namespace riskpipe::config
