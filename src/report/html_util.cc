#include "report/html_util.h"

#include <cmath>
#include <cstdio>

namespace riskpipe::report::internal {
namespace {

using nlohmann::json;

// Runs before anything else on the page: every script error, failed resource and
// console.error lands in #rp-errors (data-count), which the tests read from the DOM.
constexpr char kErrorHook[] = R"JS(
window.__rpErrors = [];
function rpError(message) {
  window.__rpErrors.push(String(message));
  var el = document.getElementById('rp-errors');
  if (el) { el.textContent = window.__rpErrors.join('\n'); el.setAttribute('data-count', window.__rpErrors.length); el.hidden = false; }
}
window.addEventListener('error', function (e) {
  rpError(e.message || ('failed to load ' + ((e.target && (e.target.src || e.target.href)) || 'a resource')));
}, true);
(function () { var orig = console.error; console.error = function () { rpError(Array.prototype.join.call(arguments, ' ')); orig.apply(console, arguments); }; })();
)JS";

// Inline text of a JSON document that cannot end the <script> element it sits in.
std::string ScriptSafeJson(const json& data) {
  std::string text = data.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string Inline(std::string_view md) {
  std::string out;
  bool code = false, bold = false;
  for (size_t i = 0; i < md.size(); ++i) {
    if (md[i] == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
    } else if (!code && md.compare(i, 2, "**") == 0) {
      out += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++i;
    } else {
      out += Escape(md.substr(i, 1));
    }
  }
  if (code) out += "</code>";
  if (bold) out += "</strong>";
  return out;
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Cell(const json& v, int digits) {
  if (v.is_null()) return "-";
  if (v.is_string()) return Escape(v.get<std::string>());
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", digits, d);
    return buf;
  }
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return Escape(v.dump());
}

std::string Percent(const json& v, int decimals) {
  if (!v.is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f%%", decimals, v.get<double>() * 100);
  return buf;
}

std::string Text(const json& facts, const char* key, std::string_view fallback) {
  if (!facts.contains(key) || facts[key].is_null()) return std::string(fallback);
  return Cell(facts[key]);
}

std::string DatasetTable(const json& dataset, size_t max_rows, std::string_view empty) {
  const json& rows = dataset.value("rows", json::array());
  if (rows.empty()) return "<p class=\"empty\">" + Escape(empty) + "</p>";
  std::string out = "<table><thead><tr>";
  for (const auto& c : dataset["columns"]) out += "<th>" + Escape(c.get<std::string>()) + "</th>";
  out += "</tr></thead><tbody>";
  for (size_t i = 0; i < rows.size() && i < max_rows; ++i) {
    out += "<tr>";
    for (const auto& v : rows[i]) out += "<td>" + Cell(v) + "</td>";
    out += "</tr>";
  }
  out += "</tbody></table>";
  if (rows.size() > max_rows) {
    out += "<p class=\"small\">" + std::to_string(rows.size() - max_rows) +
           " more rows not shown (query the table for all).</p>";
  }
  return out;
}

std::string ObjectsTable(const json& list,
                         const std::vector<std::pair<std::string, std::string>>& columns,
                         size_t max_rows, std::string_view empty) {
  if (!list.is_array() || list.empty()) return "<p class=\"empty\">" + Escape(empty) + "</p>";
  std::string out = "<table><thead><tr>";
  for (const auto& c : columns) out += "<th>" + Escape(c.second) + "</th>";
  out += "</tr></thead><tbody>";
  for (size_t i = 0; i < list.size() && i < max_rows; ++i) {
    out += "<tr>";
    for (const auto& c : columns) out += "<td>" + Cell(list[i].value(c.first, json())) + "</td>";
    out += "</tr>";
  }
  out += "</tbody></table>";
  return out;
}

std::string Chart(std::string_view name, int height_px, std::string_view empty_text) {
  return "<div class=\"chart\" data-chart=\"" + Escape(name) + "\" data-empty=\"" +
         Escape(empty_text) + "\" style=\"height:" + std::to_string(height_px) + "px\"></div>";
}

std::string Page(std::string_view title, std::string_view css, std::string_view body,
                 const json& data, std::string_view charts_js_library) {
  std::string out;
  out.reserve(charts_js_library.size() + body.size() + 200000);
  out += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  out += Escape(title);
  out += "</title>\n<script>";
  out += kErrorHook;
  out += "</script>\n<style>";
  out += css;
  out += "</style>\n<script>\n";
  out += charts_js_library;
  out += "\n</script>\n</head>\n<body>\n<pre id=\"rp-errors\" data-count=\"0\" hidden></pre>\n";
  out += body;
  out += "\n<script type=\"application/json\" id=\"rp-data\">";
  out += ScriptSafeJson(data);
  out += "</script>\n<script>";
  out += ChartsScript();
  out += "</script>\n</body></html>\n";
  return out;
}

std::string MarkdownToHtml(std::string_view md) {
  std::string out;
  bool in_list = false, in_para = false, in_code = false;
  auto close = [&] {
    if (in_list) out += "</ul>";
    if (in_para) out += "</p>";
    in_list = in_para = false;
  };
  size_t pos = 0;
  while (pos <= md.size()) {
    size_t end = md.find('\n', pos);
    if (end == std::string_view::npos) end = md.size();
    std::string_view line = md.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("```")) {
      close();
      out += in_code ? "</pre>" : "<pre>";
      in_code = !in_code;
      continue;
    }
    if (in_code) {
      out += Escape(line);
      out += '\n';
      continue;
    }
    size_t level = 0;
    while (level < line.size() && line[level] == '#') ++level;
    if (level > 0 && level < line.size() && line[level] == ' ') {
      close();
      const std::string tag = "h" + std::to_string(std::min<size_t>(level + 2, 6));
      out += "<" + tag + ">" + Inline(line.substr(level + 1)) + "</" + tag + ">";
    } else if (line.starts_with("- ") || line.starts_with("* ")) {
      if (in_para) out += "</p>";
      in_para = false;
      if (!in_list) out += "<ul>";
      in_list = true;
      out += "<li>" + Inline(line.substr(2)) + "</li>";
    } else if (line.find_first_not_of(" \t") == std::string_view::npos) {
      close();
    } else {
      if (!in_para && !in_list) out += "<p>";
      in_para = in_para || !in_list;
      out += Inline(line) + " ";
    }
  }
  close();
  if (in_code) out += "</pre>";
  return out;
}

}  // namespace riskpipe::report::internal
