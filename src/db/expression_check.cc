#include "db/expression_check.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <set>

#include "core/json.h"
#include "db/database.h"

namespace riskpipe::db {
namespace {

constexpr char kSourceTable[] = "riskpipe_expression_source";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Functions that read something other than their arguments: settings, variables, the
// environment, sequences, files (the table functions are unreachable without a subquery, and
// the connections that run project SQL cannot open files; this keeps the names out anyway).
bool IsDeniedFunction(const std::string& name) {
  static constexpr std::array<std::string_view, 12> kExact = {
      "current_setting", "getenv",        "getvariable", "nextval",  "currval", "setseed",
      "query",           "query_table",   "glob",        "sniff_csv", "json_serialize_sql",
      "json_execute_serialized_sql"};
  static constexpr std::array<std::string_view, 6> kPrefixes = {
      "riskpipe", "read_", "pragma_", "duckdb_", "parquet_", "sqlite_"};
  if (std::find(kExact.begin(), kExact.end(), name) != kExact.end()) return true;
  return std::any_of(kPrefixes.begin(), kPrefixes.end(),
                     [&](std::string_view p) { return name.rfind(p, 0) == 0; });
}

class TreeCheck {
 public:
  explicit TreeCheck(const ExpressionRules& rules) {
    any_column_ = rules.any_column;
    for (const std::string& c : rules.columns) columns_.insert(Lower(c));
  }

  // "" when every node below `node` is allowed, else the problem.
  std::string Visit(const Json& node) const {
    if (node.is_array()) {
      for (const Json& child : node) {
        if (std::string p = Visit(child); !p.empty()) return p;
      }
      return "";
    }
    if (!node.is_object()) return "";
    if (auto it = node.find("class"); it != node.end() && it->is_string()) {
      if (std::string p = Node(it->get<std::string>(), node); !p.empty()) return p;
    } else if (auto type = node.find("type");
               type != node.end() && type->is_string() && *type == "SELECT_NODE") {
      return "a query is not allowed here";
    }
    for (const auto& [key, child] : node.items()) {
      if (std::string p = Visit(child); !p.empty()) return p;
    }
    return "";
  }

 private:
  std::string Node(const std::string& cls, const Json& node) const {
    if (cls == "SUBQUERY") return "a subquery is not allowed";
    if (cls == "STAR") return "* and COLUMNS(...) are not allowed";
    if (cls == "PARAMETER") return "a parameter ($1, ?) is not allowed";
    if (cls == "COLUMN_REF") {
      const Json& names = node.value("column_names", Json::array());
      if (names.size() != 1 || !names[0].is_string()) {
        return "qualified column name " + names.dump() + " is not allowed: name the column alone";
      }
      const std::string name = names[0].get<std::string>();
      if (!any_column_ && columns_.count(Lower(name)) == 0) {
        return "\"" + name + "\" is not a column of the source";
      }
      return "";
    }
    if (cls == "FUNCTION" || cls == "WINDOW") {
      const std::string name = Lower(node.value("function_name", std::string()));
      const std::string schema = Lower(node.value("schema", std::string()));
      const std::string catalog = node.value("catalog", std::string());
      if (!catalog.empty() || (!schema.empty() && schema != "main")) {
        return "function " + name + " must not name a catalog or schema";
      }
      if (IsDeniedFunction(name)) return "function " + name + "() is not allowed";
      return "";
    }
    static const std::set<std::string> kAllowed = {"CONSTANT",    "OPERATOR", "COMPARISON",
                                                   "CONJUNCTION", "CASE",     "CAST",
                                                   "BETWEEN",     "COLLATE",  "LAMBDA"};
    if (kAllowed.count(cls) == 0) return Lower(cls) + " is not allowed in an expression";
    return "";
  }

  bool any_column_ = false;
  std::set<std::string> columns_;
};

// The parser's connection: an in-memory database that may not touch files.
class Parser {
 public:
  static StatusOr<Parser*> Get() {
    static StatusOr<Parser*> parser = Make();
    return parser;
  }
  // Whether (expression, rules) passed before: steps check the same project text many times.
  bool Accepted(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_.count(key) != 0;
  }
  void Accept(std::string key) {
    std::lock_guard<std::mutex> lock(mu_);
    accepted_.insert(std::move(key));
  }
  StatusOr<std::string> Serialize(const std::string& select) {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Table t, con_.Query("SELECT json_serialize_sql(" + QuoteLiteral(select) +
                                         ")"));
    if (t.rows.size() != 1 || !std::holds_alternative<std::string>(t.rows[0][0])) {
      return InternalError("duckdb: json_serialize_sql returned no text");
    }
    return std::get<std::string>(t.rows[0][0]);
  }

 private:
  Parser(Database db, Connection con) : db_(std::move(db)), con_(std::move(con)) {}
  static StatusOr<Parser*> Make() {
    Options options;
    options.threads = 1;
    options.allowed_directories = {"/nonexistent-riskpipe-parser/"};
    ASSIGN_OR_RETURN(Database db, Database::Open(":memory:", options));
    ASSIGN_OR_RETURN(Connection con, db.Connect());
    return new Parser(std::move(db), std::move(con));  // lives for the process
  }
  std::mutex mu_;
  Database db_;
  Connection con_;
  std::set<std::string> accepted_;
};

}  // namespace

Status CheckExpression(std::string_view expr, const ExpressionRules& rules) {
  if (expr.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return InvalidArgumentError("the expression is empty");
  }
  if (expr.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("the expression holds a NUL byte");
  }
  ASSIGN_OR_RETURN(Parser * parser, Parser::Get());
  std::string key(expr);
  key += '\0';
  key += rules.any_column ? "*" : "";
  for (const std::string& c : rules.columns) key += Lower(c) + '\0';
  if (parser->Accepted(key)) return OkStatus();
  ASSIGN_OR_RETURN(std::string text,
                   parser->Serialize("SELECT (" + std::string(expr) + "\n) FROM " + kSourceTable));
  ASSIGN_OR_RETURN(Json tree, ParseJson(text, "json_serialize_sql"));
  if (tree.value("error", false)) {
    return InvalidArgumentError("not one SQL expression: " +
                                tree.value("error_message", std::string("syntax error")));
  }
  const Json& statements = tree.value("statements", Json::array());
  if (statements.size() != 1) return InvalidArgumentError("not one SQL expression");
  const Json& select = statements[0].value("node", Json::object());
  const Json& list = select.value("select_list", Json::array());
  const Json& from = select.value("from_table", Json::object());
  const bool plain = select.value("type", std::string()) == "SELECT_NODE" && list.size() == 1 &&
                     from.value("type", std::string()) == "BASE_TABLE" &&
                     from.value("table_name", std::string()) == kSourceTable &&
                     select.value("where_clause", Json()).is_null() &&
                     select.value("having", Json()).is_null() &&
                     select.value("qualify", Json()).is_null() &&
                     select.value("group_expressions", Json::array()).empty() &&
                     select.value("modifiers", Json::array()).empty() &&
                     select.value("cte_map", Json::object())
                         .value("map", Json::array())
                         .empty();
  if (!plain) return InvalidArgumentError("not one SQL expression (it reaches outside its parentheses)");
  if (std::string p = TreeCheck(rules).Visit(list[0]); !p.empty()) {
    return InvalidArgumentError(p);
  }
  parser->Accept(std::move(key));
  return OkStatus();
}

}  // namespace riskpipe::db
