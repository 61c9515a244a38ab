#include "query/ddl/ddl_parser.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "query/ddl/ast.hpp"
#include "query/ddl/config.hpp"
#include "query/common/location.hpp"
#include "query/ddl/ddl.hpp"
#include "cmdb/suggest.hpp"

namespace cmdb::ddl {
namespace x3 = boost::spirit::x3;
namespace fs = std::filesystem;
namespace {

using parser::error_handler_type;
using parsing::error_handler_tag;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

using parsing::LocatedError;
using parsing::NextToken;

// The offset of the bracket that opens nesting level kMaxDdlNesting + 1, if any: a linear scan
// without recursion that skips quoted strings (with backslash escapes) and -- and // comments.
std::optional<size_t> TooDeep(std::string_view s) {
  size_t depth = 0;
  for (size_t i = 0, n = s.size(); i < n; ++i) {
    char c = s[i];
    if (c == '\'' || c == '"') {
      for (++i; i < n && s[i] != c; ++i) {
        if (s[i] == '\\') ++i;
      }
    } else if (s.substr(i, 2) == "--" || s.substr(i, 2) == "//") {
      while (i < n && s[i] != '\n' && s[i] != '\r') ++i;  // where x3::eol ends the skipper's comment
    } else if (c == '(' || c == '[' || c == '{') {
      if (++depth > kMaxDdlNesting) return i;
    } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

Value ToValue(const ast::Literal& lit) {
  struct V {
    Value operator()(const ast::NullLiteral&) const { return Value(); }
    Value operator()(bool b) const { return Value(b); }
    Value operator()(double d) const { return Value(d); }
    Value operator()(int64_t i) const { return Value(i); }
    Value operator()(const std::string& s) const { return Value(s); }
    Value operator()(const std::vector<std::string>& l) const {
      ValueList out;
      for (const auto& s : l) out.emplace_back(s);
      return Value(std::move(out));
    }
  };
  return boost::apply_visitor(V{}, lit);
}

// Applies statements to a schema, turning each failure into a located error.
class Applier {
 public:
  Applier(std::string_view source, const error_handler_type& handler, Schema& schema)
      : source_(source), handler_(handler), schema_(schema) {}

  Status operator()(const ast::CreateNode& s) {
    ClassDef def;
    def.name = s.name.text;
    def.is_abstract = s.is_abstract;
    if (s.parent) {
      CMDB_RETURN_IF_ERROR(CheckClass(*s.parent));
      def.parent = s.parent->text;
    }
    for (const auto& k : s.key) def.key.push_back(k.text);
    def.control = ParseControl(s.control);
    auto attrs = Attrs(s.attrs, def.name);
    if (!attrs.ok()) return attrs.status();
    def.attributes = std::move(*attrs);
    CMDB_RETURN_IF_ERROR(At(s.name, schema_.AddClass(std::move(def))));
    return s.service ? Service(s.name, *s.service) : Status::Ok();
  }

  Status operator()(const ast::CreateEdge& s) {
    RelTypeDef def;
    def.name = s.name.text;
    for (const auto& p : s.pairs) {
      CMDB_RETURN_IF_ERROR(CheckClass(p.from));
      CMDB_RETURN_IF_ERROR(CheckClass(p.to));
      def.pairs.push_back({p.from.text, p.to.text});
    }
    for (const auto& o : s.options) CMDB_RETURN_IF_ERROR(Option(o, def.cardinality, def.impact, &def));
    auto attrs = Attrs(s.attrs, def.name);
    if (!attrs.ok()) return attrs.status();
    def.attributes = std::move(*attrs);
    return At(s.name, schema_.AddRelType(std::move(def)));
  }

  Status operator()(const ast::AlterAdd& s) {
    auto attrs = Attrs(s.attrs, s.target.text);
    if (!attrs.ok()) return attrs.status();
    if (s.kind == "NODE") {
      CMDB_RETURN_IF_ERROR(CheckClass(s.target));
      return At(s.target, schema_.AddAttributes(s.target.text, *attrs));
    }
    CMDB_RETURN_IF_ERROR(CheckRelType(s.target));
    return At(s.target, schema_.AddRelAttributes(s.target.text, *attrs));
  }

  Status operator()(const ast::AlterDrop& s) {
    if (s.kind == "NODE") {
      CMDB_RETURN_IF_ERROR(CheckClass(s.target));
      return At(s.attr, schema_.DropAttribute(s.target.text, s.attr.text));
    }
    CMDB_RETURN_IF_ERROR(CheckRelType(s.target));
    return At(s.attr, schema_.DropRelAttribute(s.target.text, s.attr.text));
  }

  Status operator()(const ast::AlterKey& s) {
    CMDB_RETURN_IF_ERROR(CheckClass(s.target));
    std::vector<std::string> key;
    for (const auto& k : s.key) key.push_back(k.text);
    return At(s.target, schema_.SetClassKey(s.target.text, key));
  }

  Status operator()(const ast::AlterIdentify& s) {
    CMDB_RETURN_IF_ERROR(CheckClass(s.target));
    IdentifySpec spec;
    for (const auto& r : s.rules) {
      spec.rules.push_back({{}, r.strong});
      for (const auto& a : r.attrs) spec.rules.back().attrs.push_back(a.text);
    }
    if (s.within) CMDB_RETURN_IF_ERROR(CheckClass(*s.within));
    spec.within = s.within ? s.within->text : "";
    if (s.scoped_by) {
      for (const auto& a : *s.scoped_by) spec.scoped_by.push_back(a.text);
    }
    if (s.shared_with) {
      for (const auto& c : *s.shared_with) {
        CMDB_RETURN_IF_ERROR(CheckClass(c));
        spec.shared_with.push_back(c.text);
      }
    }
    if (s.on_conflict) {
      std::string word = *s.on_conflict;
      for (char& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      spec.on_conflict = word == "REFUSE" ? IdentifyConflict::kRefuse : IdentifyConflict::kCreate;
    }
    return At(s.target, schema_.SetIdentification(s.target.text, std::move(spec)));
  }

  Status operator()(const ast::AlterControl& s) {
    CMDB_RETURN_IF_ERROR(CheckClass(s.target));
    return At(s.target, schema_.SetClassControl(s.target.text, ParseControl(s.control)));
  }

  Status operator()(const ast::AlterService& s) {
    CMDB_RETURN_IF_ERROR(CheckClass(s.target));
    return Service(s.target, s.option);
  }

  // Applies SERVICE [CRITICALITY attr] or NOT SERVICE to class `target`; an error about the
  // criticality attribute points at its name.
  Status Service(const ast::Name& target, const ast::ServiceOption& o) {
    std::string criticality = o.criticality ? o.criticality->text : "";
    Status st = schema_.SetClassService(target.text, o.service, criticality);
    if (o.criticality) return At(*o.criticality, st);
    return At(target, st);
  }

  // The policy of a CONTROLLED/UNCONTROLLED clause as the grammar captured it (any spacing or
  // case): plain CONTROLLED is DETECT.
  static ControlPolicy ParseControl(const std::string& text) {
    std::string t;
    for (char c : text) t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (t.empty()) return ControlPolicy::kInherit;
    if (t.rfind("UNCONTROLLED", 0) == 0) return ControlPolicy::kUncontrolled;
    return t.find("ENFORCE") != std::string::npos ? ControlPolicy::kEnforce : ControlPolicy::kDetect;
  }

  Status operator()(const ast::AlterConnect& s) {
    CMDB_RETURN_IF_ERROR(CheckRelType(s.target));
    std::vector<EndpointPair> pairs;
    for (const auto& p : s.pairs) {
      CMDB_RETURN_IF_ERROR(CheckClass(p.from));
      CMDB_RETURN_IF_ERROR(CheckClass(p.to));
      pairs.push_back({p.from.text, p.to.text});
    }
    return At(s.target, schema_.AddRelPairs(s.target.text, pairs));
  }

  Status operator()(const ast::AlterEdgeSet& s) {
    CMDB_RETURN_IF_ERROR(CheckRelType(s.target));
    RelTypeDef def = *schema_.FindRelType(s.target.text);
    CMDB_RETURN_IF_ERROR(Option(s.option, def.cardinality, def.impact, &def));
    CMDB_RETURN_IF_ERROR(schema_.SetRelCardinality(s.target.text, def.cardinality));
    CMDB_RETURN_IF_ERROR(schema_.SetRelQuorum(s.target.text, def.quorum, def.quorum_percent));
    return schema_.SetRelImpact(s.target.text, def.impact);
  }

  Status operator()(const ast::Drop& s) {
    if (s.kind == "NODE") {
      CMDB_RETURN_IF_ERROR(CheckClass(s.target));
      return At(s.target, schema_.DropClass(s.target.text));
    }
    CMDB_RETURN_IF_ERROR(CheckRelType(s.target));
    return At(s.target, schema_.DropRelType(s.target.text));
  }

 private:
  Status At(const x3::position_tagged& node, Status st) const {
    if (st.ok()) return st;
    Status out = LocatedError(st.code(), source_, handler_.offset_of(node), st.message());
    for (const auto& [k, v] : st.details()) out.With(k, v);
    return out;
  }

  Status CheckClass(const ast::Name& n) const {
    if (schema_.FindClass(n.text)) return Status::Ok();
    return At(n, Status(StatusCode::kSchemaViolation, schema_.UnknownClassMessage(n.text)));
  }

  Status CheckRelType(const ast::Name& n) const {
    if (schema_.FindRelType(n.text)) return Status::Ok();
    return At(n, Status(StatusCode::kSchemaViolation, schema_.UnknownRelTypeMessage(n.text)));
  }

  Status Option(const ast::EdgeOption& o, Cardinality& c, ImpactRule& r, RelTypeDef* quorum_target) const {
    std::string v = Upper(o.value);
    if (o.kind == "QUORUM") {
      bool percent = !v.empty() && v.back() == '%';
      int n = std::atoi(v.c_str());
      if (n < 1 || (percent && n > 100))
        return At(o, Status::Invalid("QUORUM must be a count of at least 1 or a percentage from 1% to 100%"));
      quorum_target->quorum = n;
      quorum_target->quorum_percent = percent;
      return Status::Ok();
    }
    if (o.kind == "CARDINALITY") {
      static const std::vector<std::pair<std::string, Cardinality>> kCards = {
          {"MANY_TO_MANY", Cardinality::kManyToMany}, {"MANY_TO_ONE", Cardinality::kManyToOne},
          {"ONE_TO_MANY", Cardinality::kOneToMany}, {"ONE_TO_ONE", Cardinality::kOneToOne}};
      for (const auto& [name, card] : kCards) {
        if (v == name) return c = card, Status::Ok();
      }
      return At(o, Status::Invalid("unknown cardinality '" + o.value +
                                   "' (MANY_TO_MANY, MANY_TO_ONE, ONE_TO_MANY or ONE_TO_ONE)"));
    }
    std::string words;  // normalize white space: "TO   SOURCE" -> "TO SOURCE"
    for (char ch : v) {
      if (std::isspace(static_cast<unsigned char>(ch))) {
        if (!words.empty() && words.back() != ' ') words += ' ';
      } else {
        words += ch;
      }
    }
    r = words == "TO SOURCE" ? ImpactRule::kToSource
        : words == "TO TARGET" ? ImpactRule::kToTarget
        : words == "BOTH"      ? ImpactRule::kBoth
                               : ImpactRule::kNone;
    return Status::Ok();
  }

  Result<std::vector<AttributeDef>> Attrs(const std::vector<ast::AttrDef>& in, const std::string& owner) const {
    static const std::vector<std::pair<std::string, AttrType>> kTypes = {
        {"STRING", AttrType::kString}, {"INT", AttrType::kInt},       {"INTEGER", AttrType::kInt},
        {"FLOAT", AttrType::kFloat},   {"BOOL", AttrType::kBool},     {"BOOLEAN", AttrType::kBool},
        {"DATETIME", AttrType::kDateTime}, {"DATE", AttrType::kDate}, {"ENUM", AttrType::kEnum},
        {"IP", AttrType::kIp},         {"LIST", AttrType::kStringList}};
    std::vector<AttributeDef> out;
    for (const auto& a : in) {
      AttributeDef def;
      def.name = a.name.text;
      std::string t = Upper(a.type.name);
      auto it = std::find_if(kTypes.begin(), kTypes.end(), [&](auto& p) { return p.first == t; });
      if (it == kTypes.end()) {
        std::vector<std::string> names;
        for (const auto& [n, k] : kTypes) names.push_back(n);
        return At(a.type,
                  Status(StatusCode::kSchemaViolation, UnknownName("type", a.type.name, names)));
      }
      def.type = it->second;
      if (def.type == AttrType::kEnum) {
        if (a.type.args.empty()) return At(a.type, Status::Invalid("ENUM needs its values: ENUM('a', 'b')"));
        def.enum_values = a.type.args;
      } else if (def.type == AttrType::kStringList) {
        if (a.type.args.size() != 1 || Upper(a.type.args[0]) != "STRING")
          return At(a.type, Status::Invalid("only LIST<STRING> is supported"));
      } else if (!a.type.args.empty()) {
        return At(a.type, Status::Invalid("type " + t + " takes no arguments"));
      }
      for (const auto& c : a.constraints) {
        if (c.kind == "NOT NULL") def.not_null = true;
        if (c.kind == "UNIQUE") def.unique = true;
        if (c.kind == "KEY") def.key = true;
        if (c.kind == "DEFAULT" && c.value) def.default_value = ToValue(*c.value);
      }
      out.push_back(std::move(def));
    }
    (void)owner;
    return out;
  }

  std::string_view source_;
  const error_handler_type& handler_;
  Schema& schema_;
};

}  // namespace

Status ApplyDdl(std::string_view source_view, Schema& schema) {
  const std::string source(source_view);
  if (auto deep = TooDeep(source)) {
    return LocatedError(StatusCode::kResourceExhausted, source, *deep,
                        "brackets nest deeper than " + std::to_string(kMaxDdlNesting) + " levels")
        .With("limit", static_cast<int64_t>(kMaxDdlNesting));
  }
  auto first = source.cbegin();
  const auto last = source.cend();
  error_handler_type handler(first, last);
  ast::Script script;
  const auto parser = x3::with<error_handler_tag>(std::ref(handler))[ScriptGrammar()];
  bool ok = false;
  try {
    ok = x3::phrase_parse(first, last, parser, parser::skipper, script);
  } catch (const x3::expectation_failure<parser::iterator_type>& e) {
    handler.record(e.where(), e.which());
  }
  if (handler.failure) {
    return LocatedError(StatusCode::kInvalidArgument, source, NextToken(source, handler.failure->offset),
                        "expected " + parsing::ReadableExpectation(handler.failure->expected, "a statement"))
        .With("expected", parsing::ReadableExpectation(handler.failure->expected, "a statement"));
  }
  if (!ok || first != last) {
    return LocatedError(StatusCode::kInvalidArgument, source,
                        NextToken(source, static_cast<size_t>(first - source.cbegin())),
                        "expected a statement (CREATE, ALTER or DROP)");
  }
  Schema work = schema;
  Applier applier(source, handler, work);
  for (const auto& stmt : script) CMDB_RETURN_IF_ERROR(boost::apply_visitor(applier, stmt));
  schema = std::move(work);
  return Status::Ok();
}

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Status LoadSchemaDir(const std::string& dir, Schema& schema) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("schema folder " + dir + " does not exist");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".gql") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto text = ReadFile(f.string());
    if (!text.ok()) return text.status();
    Status st = ApplyDdl(*text, schema);
    if (!st.ok()) return Status(st.code(), f.string() + ": " + st.message());
  }
  return Status::Ok();
}

}  // namespace cmdb::ddl
