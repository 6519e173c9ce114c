#pragma once
// The `validation:` section of riskpipe.yaml: the thresholds of the pre-deployment validation
// gate (`riskpipe validate`). Every field has a default that applies when the section or the
// key is absent; docs/validation.md gives each check, its key, its default and why. Plain
// values; thread-safe once built.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace riskpipe::config {

// One slice of the out-of-time rows to report AUC on: a column and either numeric band edges
// (rows in [edge_i, edge_i+1), plus one band below the first and one above the last) or text
// levels (only those levels; every level when empty).
struct SegmentDef {
  std::string column;
  std::vector<double> bands;
  std::vector<std::string> levels;
  int line = 0;
};

struct ValidationDef {
  bool present = false;  // the section was given
  int line = 0;          // its line in the config file

  // Performance floor on the out-of-time rows.
  double min_auc = 0.60;
  double min_ks = 0.15;
  double max_auc_below_baseline = 0.02;    // vs a logistic regression on the same train rows
  double max_auc_below_production = 0.01;  // vs the name's production version, when another
  // Stability: AUC of each out-of-time month; months with fewer rows are skipped.
  double min_month_auc = 0.55;
  int64_t min_month_rows = 100;
  // Slices: configured segments, plus automatic ones unless auto_segments is false.
  double min_segment_auc = 0.55;
  double max_segment_gap = 0.10;  // overall AUC - segment AUC
  int64_t min_segment_rows = 200;
  bool auto_segments = true;
  std::vector<SegmentDef> segments;
  // Invariance to protected attributes (model.protected_attributes).
  bool allow_protected_inputs = false;
  double invariance_epsilon = 1e-6;  // largest PD change allowed when one is changed
  // Directional expectations: feature -> +1 (PD must not fall as it rises) or -1. Empty:
  // the model's own monotone map (model.monotone as stored in the package).
  std::map<std::string, int> directions;
  double direction_step = 0.5;          // the raise, in training standard deviations
  double direction_tolerance = 1e-9;    // a PD fall smaller than this is not a violation
  double max_direction_violations = 0;  // share of perturbed rows allowed to violate
  // Perturbation robustness: Gaussian noise of `noise` training standard deviations on every
  // numeric input at once.
  double noise = 0.01;
  double max_noise_pd_change = 0.05;      // largest |PD change| allowed
  double max_noise_pd_change_p99 = 0.01;  // 99th percentile of |PD change| allowed
  // Calibration per decile: |observed - predicted| <= max(abs, rel * predicted).
  double calibration_abs_tolerance = 0.05;
  double calibration_rel_tolerance = 0.25;
  // Fairness: approval-rate ratio (lowest group / highest group) at the policy threshold.
  double min_approval_ratio = 0.8;
  int64_t min_group_rows = 30;
  // The perturbation checks (invariance, directions, noise, missing values) use at most this
  // many out-of-time rows, drawn with `seed`.
  int64_t max_rows = 20000;
  uint64_t seed = 42;
};

}  // namespace riskpipe::config
