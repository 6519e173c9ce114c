#pragma once
// Internal to report: HTML building blocks shared by the dashboard and the business report.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"

namespace riskpipe::report::internal {

// Escapes text for HTML element content and attribute values.
std::string Escape(std::string_view text);
// A JSON value as text, "-" for null; numbers with `digits` significant digits.
std::string Cell(const nlohmann::json& v, int digits = 4);
// "12.3%" for 0.123; "-" for null.
std::string Percent(const nlohmann::json& v, int decimals = 1);
// A string fact, or `fallback` when missing or null.
std::string Text(const nlohmann::json& facts, const char* key, std::string_view fallback = "-");
// An HTML table of a dataset ({"columns","rows"}), at most `max_rows` rows, with a caption
// line saying how many were left out.
std::string DatasetTable(const nlohmann::json& dataset, size_t max_rows, std::string_view empty);
// An HTML table of a JSON array of objects: `columns` pairs (key, header), at most
// `max_rows` rows.
std::string ObjectsTable(const nlohmann::json& list,
                         const std::vector<std::pair<std::string, std::string>>& columns,
                         size_t max_rows, std::string_view empty);
// A chart container drawn by ChartsScript (data-chart = `name`).
std::string Chart(std::string_view name, int height_px, std::string_view empty_text);
// The page skeleton: <head> with `css`, the error hook, ECharts and the data inlined; then
// `body`, then the chart script. `data` is embedded as application/json.
std::string Page(std::string_view title, std::string_view css, std::string_view body,
                 const nlohmann::json& data, std::string_view charts_js_library);
// Markdown subset (headings, paragraphs, bullet lists, `code`, **bold**) to HTML, for quoting
// docs/governance.md.
std::string MarkdownToHtml(std::string_view markdown);

// The chart code both pages run (charts_js.cc).
std::string_view ChartsScript();

}  // namespace riskpipe::report::internal
