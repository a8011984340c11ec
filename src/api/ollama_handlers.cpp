// Ollama-compatible routes: /api/generate, /api/chat, /api/tags, /api/ps,
// /api/show, /api/version.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "api/api.h"
#include "api/generation_runner.h"
#include "api/handler_util.h"
#include "gguf/gguf_reader.h"
#include "jarvis/build_info.h"
#include "model/arch.h"

namespace jarvis::api {
namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

nlohmann::json Details(const ModelInfo& m) {
  return {{"parent_model", ""},
          {"format", "gguf"},
          {"family", m.architecture},
          {"families", nlohmann::json::array({m.architecture})},
          {"parameter_size", FormatParameterCount(m.parameters)},
          {"quantization_level", Upper(m.quantization)}};
}

std::string ModifiedAt(const std::string& path) {
  std::error_code ec;
  const auto t = std::filesystem::last_write_time(path, ec);
  if (ec) return Rfc3339(std::chrono::system_clock::now());
  return Rfc3339(std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::file_clock::to_sys(t)));
}

nlohmann::json ModelEntry(const ModelInfo& m) {
  return {{"name", m.name},           {"model", m.name},   {"modified_at", ModifiedAt(m.path)},
          {"size", m.size_bytes},     {"digest", m.digest}, {"details", Details(m)}};
}

// A generate/chat request without prompt/messages: load (or unload) only.
void LoadOnly(ApiContext& ctx, ParsedGeneration parsed, std::shared_ptr<ResponseSink> sink) {
  ctx.RunBlocking([&ctx, parsed = std::move(parsed), sink]() {
    const std::string& model = parsed.request.model;
    const bool unload = parsed.keep_alive && parsed.keep_alive->count() == 0;
    Status s = unload ? ctx.backend.UnloadModel(model) : ctx.backend.LoadModel(model, parsed.keep_alive, false);
    if (!s.ok()) {
      sink->Send(OllamaError(s));
      return;
    }
    std::string name = model;
    if (name.empty()) {
      auto info = ctx.backend.GetModel("");
      if (info.ok()) name = info->name;
    }
    nlohmann::json j = {{"model", name}, {"created_at", Rfc3339(std::chrono::system_clock::now())},
                        {"done", true},  {"done_reason", unload ? "unload" : "load"}};
    if (parsed.chat) {
      j["message"] = {{"role", "assistant"}, {"content", ""}};
    } else {
      j["response"] = "";
    }
    sink->Send(JsonResponse(200, j));
  });
}

nlohmann::json GgufJsonValue(const GgufValue& v) {
  if (const GgufArray* a = v.as_array()) {
    if (a->items.size() > 64) return nullptr;  // vocabulary, merges, scores...
    nlohmann::json out = nlohmann::json::array();
    for (const GgufValue& item : a->items) out.push_back(GgufJsonValue(item));
    return out;
  }
  if (v.type() == GgufValueType::kBool) return v.as_bool().value_or(false);
  if (v.is_float()) return v.as_float().value_or(0.0);
  if (v.is_integer()) {
    if (auto i = v.as_int()) return *i;
    return v.as_uint().value_or(0);
  }
  if (auto s = v.as_string()) return std::string(*s);
  return nullptr;
}

nlohmann::json OllamaModelInfo(const GgufFile& gguf) {
  nlohmann::json info = nlohmann::json::object();
  for (const GgufKeyValue& kv : gguf.metadata()) {
    if (kv.key == "tokenizer.chat_template") continue;  // given as "template"
    info[std::string(kv.key)] = GgufJsonValue(kv.value);
  }
  info["general.parameter_count"] = gguf.ParameterCount();
  return info;
}

// Ollama's "parameters" text ("stop \"<|im_end|>\"" lines): the token texts
// that end a turn, which jarvis stops at (its other defaults are per request).
std::string OllamaParameters(const GgufFile& gguf) {
  const GgufArray* tokens = gguf.GetArray("tokenizer.ggml.tokens");
  std::string out;
  for (const char* key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"}) {
    auto id = gguf.GetUint(key);
    if (!id.ok() || tokens == nullptr || *id >= tokens->items.size()) continue;
    auto text = tokens->items[*id].as_string();
    if (!text) continue;
    const std::string line = "stop " + nlohmann::json(std::string(*text)).dump() + "\n";
    if (out.find(line) == std::string::npos) out += line;
  }
  return out;
}

Handler GenerationHandler(ApiContext& ctx, bool chat) {
  return [&ctx, chat](const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
    nlohmann::json body;
    if (!ReadOllamaBody(request, *sink, &body)) return;
    auto parsed = chat ? ParseOllamaChat(body) : ParseOllamaGenerate(body);
    if (!parsed.ok()) {
      sink->Send(OllamaError(parsed.status()));
      return;
    }
    KeepToolKeyOrder(request.body, &parsed->request);
    if (parsed->load_only) {
      LoadOnly(ctx, std::move(parsed).value(), std::move(sink));
      return;
    }
    GenerationMeta meta;
    meta.id = std::to_string(ctx.NextId());
    auto format = chat ? MakeOllamaChatFormat(std::move(meta)) : MakeOllamaGenerateFormat(std::move(meta));
    RunGeneration(ctx, std::move(parsed).value(), std::move(format), std::move(sink));
  };
}

void Tags(ApiContext& ctx, ResponseSink& sink) {
  nlohmann::json models = nlohmann::json::array();
  for (const ModelInfo& m : ctx.backend.ListModels()) models.push_back(ModelEntry(m));
  sink.Send(JsonResponse(200, {{"models", std::move(models)}}));
}

void Ps(ApiContext& ctx, ResponseSink& sink) {
  nlohmann::json models = nlohmann::json::array();
  for (const ModelInfo& m : ctx.backend.ListModels()) {
    if (!m.loaded) continue;
    nlohmann::json e = ModelEntry(m);
    e.erase("modified_at");
    // Ollama reports a far-future time for "never expires".
    e["expires_at"] = m.expires_at ? Rfc3339(*m.expires_at) : "2318-01-01T00:00:00.000000000Z";
    // Device memory of the model's GPU offload (weights + KV); 0 on the CPU.
    e["size_vram"] = m.scheduler.gpu_bytes;
    models.push_back(std::move(e));
  }
  sink.Send(JsonResponse(200, {{"models", std::move(models)}}));
}

void Show(ApiContext& ctx, const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
  nlohmann::json body;
  if (!ReadOllamaBody(request, *sink, &body)) return;
  JsonFields f(body);
  auto model = f.String("model");
  if (!model) model = f.String("name");  // older clients
  if (!f.ok()) {
    sink->Send(OllamaError(f.status()));
    return;
  }
  if (!model) {
    sink->Send(OllamaError(BadRequest("'model' is required")));
    return;
  }
  ctx.RunBlocking([&ctx, name = NormalizeModelName(*model), sink]() {
    auto info = ctx.backend.GetModel(name);
    if (!info.ok()) {
      sink->Send(OllamaError(info.status()));
      return;
    }
    auto show = ctx.backend.ShowModel(name);
    if (!show.ok()) {
      sink->Send(OllamaError(show.status()));
      return;
    }
    nlohmann::json j = nlohmann::json::object();
    // Ollama's model_info: the GGUF's metadata under its own flat keys, with
    // typed values (big arrays such as the vocabulary as null, as Ollama
    // does without "verbose"); "parameters": the generation defaults.
    if (auto gguf = GgufFile::Open(info->path); gguf.ok()) {
      j["model_info"] = OllamaModelInfo(**gguf);
      j["parameters"] = OllamaParameters(**gguf);
    } else {
      j["model_info"] = show->is_object() && show->contains("metadata") ? (*show)["metadata"] : *show;
    }
    if (!j.contains("details")) j["details"] = Details(*info);
    if (!j.contains("modelfile")) j["modelfile"] = "";
    if (!j.contains("parameters")) j["parameters"] = "";
    // Ollama's `template` field: the GGUF's own Jinja chat template (jarvis renders it).
    if (!j.contains("template")) {
      j["template"] = show->contains("chat_template") && (*show)["chat_template"].is_string() ? (*show)["chat_template"]
                                                                                            : nlohmann::json("");
    }
    j["modified_at"] = ModifiedAt(info->path);
    // Ollama's capabilities: an encoder only embeds; a decoder completes (and
    // takes tools, and may think).
    const ArchSpec* arch = FindArch(info->architecture);
    if (arch != nullptr && arch->encoder) {
      j["capabilities"] = nlohmann::json::array({"embedding"});
    } else {
      j["capabilities"] = nlohmann::json::array({"completion"});
      if (auto traits = ctx.chat_traits.Get(ctx.backend, *info); traits.ok()) {
        // Any model can be offered tools (the generic JSON fallback reads its calls).
        j["capabilities"].push_back("tools");
        if (traits->reasoning.thinks) j["capabilities"].push_back("thinking");
      }
    }
    sink->Send(JsonResponse(200, j));
  });
}

}  // namespace

std::string FormatParameterCount(uint64_t parameters) {
  const double p = static_cast<double>(parameters);
  char buf[32];
  if (p >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%.1fB", p / 1e9);
  } else if (p >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.1fM", p / 1e6);
  } else if (p >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.0fK", p / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f", p);
  }
  return buf;
}

void AddOllamaRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/api/generate", GenerationHandler(ctx, /*chat=*/false));
  router.Add("POST", "/api/chat", GenerationHandler(ctx, /*chat=*/true));
  router.Add("GET", "/api/tags", [&ctx](const ApiRequest&, std::shared_ptr<ResponseSink> s) { Tags(ctx, *s); });
  router.Add("GET", "/api/ps", [&ctx](const ApiRequest&, std::shared_ptr<ResponseSink> s) { Ps(ctx, *s); });
  router.Add("POST", "/api/show",
             [&ctx](const ApiRequest& r, std::shared_ptr<ResponseSink> s) { Show(ctx, r, std::move(s)); });
  router.Add("GET", "/api/version", [](const ApiRequest&, std::shared_ptr<ResponseSink> s) {
    s->Send(JsonResponse(200, {{"version", JARVIS_VERSION_STRING}}));
  });
}

}  // namespace jarvis::api
