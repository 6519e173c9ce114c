#pragma once
// Internal to report: the two pages as HTML text. `charts` receives the number of chart
// containers on the page.

#include <string>
#include <string_view>

#include "config/config.h"
#include "report/data.h"

namespace riskpipe::report::internal {

// The engineers' dashboard: every monitoring chart, alerts, data quality, lineage, run log.
std::string DashboardHtml(const ReportData& data, std::string_view charts_library, int* charts);

// The business report: at most 10 landscape A4 slides, readable without a presenter.
std::string BusinessHtml(const ReportData& data, const config::Project& project,
                         std::string_view charts_library, int* charts);

}  // namespace riskpipe::report::internal
