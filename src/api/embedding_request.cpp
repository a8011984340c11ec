// Embedding request bodies -> EmbedRequest.
#include "api/embedding_request.h"

#include <string>
#include <utility>

#include "api/generation_request.h"
#include "api/json_fields.h"

namespace jarvis::api {
namespace {

constexpr int64_t kMaxTokenId = INT32_MAX;
constexpr int64_t kMaxDimensions = 1 << 20;

Status TooMany(size_t n) {
  return Status::InvalidArgument("'input' has " + std::to_string(n) + " items; at most " +
                                 std::to_string(kMaxEmbedInputs) + " per request");
}

bool IsTokenId(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int64_t>() >= 0 && v.get<int64_t>() <= kMaxTokenId;
  return v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(kMaxTokenId);
}

Result<std::vector<int32_t>> TokenArray(const nlohmann::json& a, const std::string& where) {
  if (a.empty()) return Status::InvalidArgument("'" + where + "' is empty");
  std::vector<int32_t> ids;
  ids.reserve(a.size());
  for (const auto& v : a) {
    if (!IsTokenId(v)) return Status::InvalidArgument("'" + where + "' must hold token ids (integers >= 0)");
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return ids;
}

// A string or an array of non-empty strings; with `tokens`, also OpenAI's
// token-id forms.
Status ReadInput(const nlohmann::json* input, bool tokens, EmbedRequest* r) {
  if (input == nullptr) return Status::InvalidArgument("'input' is required");
  if (input->is_string()) {
    if (input->get_ref<const std::string&>().empty()) return Status::InvalidArgument("'input' is empty");
    r->texts.push_back(input->get<std::string>());
    return Status::Ok();
  }
  const char* kinds = tokens ? "a string, an array of strings, an array of token ids or an array of such arrays"
                             : "a string or an array of strings";
  if (!input->is_array()) return Status::InvalidArgument(std::string("'input' must be ") + kinds);
  if (input->empty()) return Status::InvalidArgument("'input' is empty");
  const nlohmann::json& first = (*input)[0];
  if (first.is_string()) {
    if (input->size() > kMaxEmbedInputs) return TooMany(input->size());
    for (size_t i = 0; i < input->size(); ++i) {
      const nlohmann::json& v = (*input)[i];
      const std::string where = "input[" + std::to_string(i) + "]";
      if (!v.is_string()) return Status::InvalidArgument("'" + where + "' must be a string like the others");
      if (v.get_ref<const std::string&>().empty()) return Status::InvalidArgument("'" + where + "' is empty");
      r->texts.push_back(v.get<std::string>());
    }
    return Status::Ok();
  }
  if (tokens && first.is_number()) {
    JARVIS_ASSIGN_OR_RETURN(std::vector<int32_t> ids, TokenArray(*input, "input"));
    r->token_inputs.push_back(std::move(ids));
    return Status::Ok();
  }
  if (tokens && first.is_array()) {
    if (input->size() > kMaxEmbedInputs) return TooMany(input->size());
    for (size_t i = 0; i < input->size(); ++i) {
      const nlohmann::json& v = (*input)[i];
      const std::string where = "input[" + std::to_string(i) + "]";
      if (!v.is_array()) return Status::InvalidArgument("'" + where + "' must be an array of token ids like the others");
      JARVIS_ASSIGN_OR_RETURN(std::vector<int32_t> ids, TokenArray(v, where));
      r->token_inputs.push_back(std::move(ids));
    }
    return Status::Ok();
  }
  return Status::InvalidArgument(std::string("'input' must be ") + kinds);
}

Status ReadOllamaCommon(JsonFields& f, ParsedEmbedding* p) {
  if (auto v = f.String("model")) p->request.model = NormalizeModelName(*v);
  JARVIS_RETURN_IF_ERROR(ReadOllamaKeepAlive(f, &p->keep_alive));
  if (const nlohmann::json* options = f.Object("options")) {
    JsonFields o(*options, "options.");
    // num_ctx: the context of this request, at most the server's (inputs
    // are cut, or refused with truncate false, at the smaller one).
    if (auto v = o.Integer("num_ctx", 1, INT32_MAX)) p->request.context = static_cast<int32_t>(*v);
    JARVIS_RETURN_IF_ERROR(o.status());
  }
  if (auto v = f.Bool("cache")) p->request.use_response_cache = *v;
  return f.status();
}

}  // namespace

Result<ParsedEmbedding> ParseOpenAiEmbedding(const nlohmann::json& body) {
  ParsedEmbedding p;
  JsonFields f(body);
  if (auto v = f.String("model")) p.request.model = NormalizeModelName(*v);
  if (auto v = f.String("encoding_format")) {
    if (*v == "base64") {
      p.base64 = true;
    } else if (*v != "float") {
      f.Fail("encoding_format", "must be \"float\" or \"base64\"");
    }
  }
  if (auto v = f.Integer("dimensions", 1, kMaxDimensions)) p.request.dimensions = static_cast<int32_t>(*v);
  f.String("user");  // type-checked; it names the end user, which changes nothing
  if (auto v = f.Bool("cache")) p.request.use_response_cache = *v;
  JARVIS_RETURN_IF_ERROR(f.status());
  JARVIS_RETURN_IF_ERROR(ReadInput(f.Raw("input"), /*tokens=*/true, &p.request));
  return p;
}

Result<ParsedEmbedding> ParseOllamaEmbed(const nlohmann::json& body) {
  ParsedEmbedding p;
  JsonFields f(body);
  if (auto v = f.Bool("truncate")) p.request.truncate = *v;
  if (auto v = f.Integer("dimensions", 1, kMaxDimensions)) p.request.dimensions = static_cast<int32_t>(*v);
  JARVIS_RETURN_IF_ERROR(ReadOllamaCommon(f, &p));
  JARVIS_RETURN_IF_ERROR(ReadInput(f.Raw("input"), /*tokens=*/false, &p.request));
  return p;
}

Result<ParsedEmbedding> ParseOllamaEmbeddings(const nlohmann::json& body) {
  ParsedEmbedding p;
  JsonFields f(body);
  auto prompt = f.String("prompt");
  JARVIS_RETURN_IF_ERROR(ReadOllamaCommon(f, &p));
  if (!prompt || prompt->empty()) {
    p.load_only = true;
    return p;
  }
  p.request.texts.push_back(std::move(*prompt));
  return p;
}

}  // namespace jarvis::api
