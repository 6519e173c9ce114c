// ingest: every source's rows of the month, raw CSV -> bronze, silver, quarantine
// (docs/ingestion.md); a backfill does all its months in one pass per source.

#include <array>
#include <map>

#include "ingest/ingest.h"
#include "pipeline/steps.h"

namespace riskpipe::pipeline {
namespace {

class IngestStep final : public FlowStep {
 public:
  using FlowStep::FlowStep;

  StatusOr<StepOutput> Run(const StepContext& c) override {
    StepOutput out;
    if (env_.project.sources.empty()) return NotDue("no sources");
    for (const auto& source : env_.project.sources) {
      ingest::IngestOptions o;
      o.from = o.to = c.month;
      o.show_progress = false;
      // Under --parallel the months' steps share the machine: one thread each.
      o.threads = env_.options.parallel > 1 ? 1 : 2;
      ASSIGN_OR_RETURN(ingest::SourceReport r, ingest::IngestSource(env_.project, source, o));
      out.rows_in += r.records - r.out_of_range;
      out.rows_out += r.silver();
      out.rows_quarantined += r.quarantined();
      out.details[source.name] = {{"silver", r.silver()}, {"quarantined", r.quarantined()}};
    }
    out.message = std::to_string(out.rows_out) + " silver rows, " +
                  std::to_string(out.rows_quarantined) + " quarantined";
    return out;
  }

  bool batches() const override { return !env_.project.sources.empty(); }

  // Each source file is read once for the whole range instead of once per month. Months in
  // between that were up to date are rewritten with the same rows. This is safe because every
  // later step reads only what is dated on or before its month.
  StatusOr<BatchOutput> RunBatch(const std::vector<Month>& months, const StepContext&) override {
    std::map<int, std::array<int64_t, 3>> counts;  // month -> bronze, silver, quarantined
    for (const auto& source : env_.project.sources) {
      ingest::IngestOptions o;
      o.from = months.front();
      o.to = months.back();
      o.show_progress = false;
      o.threads = 2;
      o.on_partition = [&counts](const ingest::PartitionCounts& pc) {
        if (pc.partition == datamart::UndatedPartition()) return;
        auto& n = counts[Month::Of(pc.partition).index()];
        n[0] += pc.bronze;
        n[1] += pc.silver;
        n[2] += pc.quarantined;
      };
      RETURN_IF_ERROR(ingest::IngestSource(env_.project, source, o).status());
    }
    BatchOutput batch;
    const std::string range = months.front().ToString() + ".." + months.back().ToString();
    for (Month m : months) {
      const auto n = counts[m.index()];
      StepOutput out;
      out.rows_in = n[0];
      out.rows_out = n[1];
      out.rows_quarantined = n[2];
      out.message = std::to_string(n[1]) + " silver rows, " + std::to_string(n[2]) +
                    " quarantined (one pass over " + range + ")";
      out.details = {{"batched", true}};
      batch.months.push_back(std::move(out));
    }
    batch.message = std::to_string(months.size()) + " months in one pass per source";
    return batch;
  }
};

}  // namespace

std::unique_ptr<Step> NewIngestStep(Env& env, const StepDef& def) {
  return std::make_unique<IngestStep>(env, def);
}

}  // namespace riskpipe::pipeline
