#include "api/output_constraints.h"

#include <string>

#include "constrain/gbnf_parser.h"
#include "constrain/json_schema_grammar.h"

namespace jarvis::api {
namespace {

using nlohmann::json;

Status SchemaGrammar(const json& schema, const std::string& field, GenerateRequest* r) {
  Result<std::string> gbnf = constrain::JsonSchemaToGbnf(schema);
  if (!gbnf.ok()) return Status::InvalidArgument("'" + field + "': " + gbnf.status().message());
  r->grammar = std::move(*gbnf);
  return Status::Ok();
}

Status ReadGrammarField(JsonFields& f, GenerateRequest* r) {
  auto grammar = f.String("grammar");
  if (!grammar || grammar->empty()) return f.status();
  if (!r->grammar.empty()) {
    return Status::InvalidArgument("'grammar' cannot be combined with a JSON response_format/format");
  }
  // Checked here so the error is a 400 naming the field (the scheduler checks again).
  if (Result<constrain::Grammar> g = constrain::ParseGbnf(*grammar); !g.ok()) {
    return Status::InvalidArgument("'grammar': " + g.status().message());
  }
  r->grammar = std::move(*grammar);
  return Status::Ok();
}

std::string ValidUtf8(const std::string& piece) {
  // Token pieces may end inside a UTF-8 character; JSON needs whole ones
  // ("bytes" carries the exact bytes, as OpenAI does).
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    const unsigned char c = static_cast<unsigned char>(piece[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len != 0 && i + len <= piece.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(piece[i + k]) & 0xC0) == 0x80;
    if (ok) {
      out.append(piece, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  return out;
}

json Bytes(const std::string& piece) {
  json b = json::array();
  for (char c : piece) b.push_back(static_cast<unsigned char>(c));
  return b;
}

json Entry(const std::string& piece, float logprob) {
  return {{"token", ValidUtf8(piece)}, {"logprob", logprob}, {"bytes", Bytes(piece)}};
}

json ContentList(const GenerateResult& r) {
  json list = json::array();
  for (const TokenLogprob& lp : r.logprobs) {
    json e = Entry(lp.piece, lp.logprob);
    json top = json::array();
    for (const auto& alt : lp.top) top.push_back(Entry(alt.piece, alt.logprob));
    e["top_logprobs"] = std::move(top);
    list.push_back(std::move(e));
  }
  return list;
}

}  // namespace

Status ReadOpenAiOutputFields(JsonFields& f, bool chat, GenerateRequest* r) {
  if (const json* rf = f.Object("response_format")) {
    JsonFields rff(*rf, "response_format.");
    const std::string type = rff.String("type").value_or("");
    if (!rff.ok()) return rff.status();
    if (type == "json_object") {
      r->grammar = constrain::JsonObjectGbnf();
    } else if (type == "json_schema") {
      const json* js = rff.Object("json_schema");
      if (js == nullptr) return Status::InvalidArgument("'response_format.json_schema' is required for type json_schema");
      JsonFields jsf(*js, "response_format.json_schema.");
      jsf.String("name");
      jsf.String("description");
      jsf.Bool("strict");  // jarvis always enforces the schema
      const json* schema = jsf.Object("schema");
      if (!jsf.ok()) return jsf.status();
      if (schema == nullptr) return Status::InvalidArgument("'response_format.json_schema.schema' is required");
      JARVIS_RETURN_IF_ERROR(SchemaGrammar(*schema, "response_format.json_schema.schema", r));
    } else if (type != "text") {
      return Status::InvalidArgument("'response_format.type' must be text, json_object or json_schema");
    }
  }
  JARVIS_RETURN_IF_ERROR(f.status());
  JARVIS_RETURN_IF_ERROR(ReadGrammarField(f, r));
  if (chat) {
    const bool want = f.Bool("logprobs").value_or(false);
    auto top = f.Integer("top_logprobs", 0, GenerateRequest::kMaxTopLogprobs);
    if (top && !want) return Status::InvalidArgument("'top_logprobs' needs 'logprobs': true");
    if (want) r->logprobs = static_cast<int32_t>(top.value_or(0));
  } else if (auto n = f.Integer("logprobs", 0, GenerateRequest::kMaxTopLogprobs)) {
    r->logprobs = static_cast<int32_t>(*n);
  }
  return f.status();
}

Status ReadOllamaOutputFields(JsonFields& f, GenerateRequest* r) {
  if (const json* format = f.Raw("format")) {
    if (format->is_string()) {
      const std::string s = format->get<std::string>();
      if (s == "json") {
        r->grammar = constrain::JsonObjectGbnf();
      } else if (!s.empty()) {
        return Status::InvalidArgument("'format' must be \"json\" or a JSON schema object");
      }
    } else if (format->is_object()) {
      JARVIS_RETURN_IF_ERROR(SchemaGrammar(*format, "format", r));
    } else if (!format->is_null()) {
      return Status::InvalidArgument("'format' must be \"json\" or a JSON schema object");
    }
  }
  JARVIS_RETURN_IF_ERROR(ReadGrammarField(f, r));
  const bool want = f.Bool("logprobs").value_or(false);
  auto top = f.Integer("top_logprobs", 0, GenerateRequest::kMaxTopLogprobs);
  if (top && !want) return Status::InvalidArgument("'top_logprobs' needs 'logprobs': true");
  if (want) r->logprobs = static_cast<int32_t>(top.value_or(0));
  return f.status();
}

nlohmann::json OpenAiChatLogprobs(const GenerateResult& r) { return {{"content", ContentList(r)}, {"refusal", nullptr}}; }

nlohmann::json OpenAiCompletionLogprobs(const GenerateResult& r) {
  json tokens = json::array(), logprobs = json::array(), top = json::array(), offsets = json::array();
  size_t offset = 0;
  for (const TokenLogprob& lp : r.logprobs) {
    tokens.push_back(ValidUtf8(lp.piece));
    logprobs.push_back(lp.logprob);
    json alts = json::object();
    for (const auto& alt : lp.top) alts[ValidUtf8(alt.piece)] = alt.logprob;
    top.push_back(std::move(alts));
    offsets.push_back(offset);
    offset += lp.piece.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", logprobs}, {"top_logprobs", top}, {"text_offset", offsets}};
}

nlohmann::json OllamaLogprobs(const GenerateResult& r) { return ContentList(r); }

}  // namespace jarvis::api
