// `jarvis inspect FILE [--json] [--tensors]`: what a GGUF file holds, without
// loading the weights (the file is mapped and only the header is read).
//
// The report is built once as JSON (stable keys, see RegisterInspect) and the
// human form is rendered from the same values, so both always agree.
#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "model/hparams.h"
#include "gguf/gguf_reader.h"

namespace jarvis::cli {
namespace {

using nlohmann::json;

// llama.cpp's llama_ftype values (general.file_type); ids 4..6 and 33..35 are
// obsolete formats.
const char* FileTypeName(uint64_t ftype) {
  switch (ftype) {
    case 0: return "ALL_F32";
    case 1: return "MOSTLY_F16";
    case 2: return "MOSTLY_Q4_0";
    case 3: return "MOSTLY_Q4_1";
    case 4: return "MOSTLY_Q4_1_SOME_F16";
    case 7: return "MOSTLY_Q8_0";
    case 8: return "MOSTLY_Q5_0";
    case 9: return "MOSTLY_Q5_1";
    case 10: return "MOSTLY_Q2_K";
    case 11: return "MOSTLY_Q3_K_S";
    case 12: return "MOSTLY_Q3_K_M";
    case 13: return "MOSTLY_Q3_K_L";
    case 14: return "MOSTLY_Q4_K_S";
    case 15: return "MOSTLY_Q4_K_M";
    case 16: return "MOSTLY_Q5_K_S";
    case 17: return "MOSTLY_Q5_K_M";
    case 18: return "MOSTLY_Q6_K";
    case 19: return "MOSTLY_IQ2_XXS";
    case 20: return "MOSTLY_IQ2_XS";
    case 21: return "MOSTLY_Q2_K_S";
    case 22: return "MOSTLY_IQ3_XS";
    case 23: return "MOSTLY_IQ3_XXS";
    case 24: return "MOSTLY_IQ1_S";
    case 25: return "MOSTLY_IQ4_NL";
    case 26: return "MOSTLY_IQ3_S";
    case 27: return "MOSTLY_IQ3_M";
    case 28: return "MOSTLY_IQ2_S";
    case 29: return "MOSTLY_IQ2_M";
    case 30: return "MOSTLY_IQ4_XS";
    case 31: return "MOSTLY_IQ1_M";
    case 32: return "MOSTLY_BF16";
    case 36: return "MOSTLY_TQ1_0";
    case 37: return "MOSTLY_TQ2_0";
    case 38: return "MOSTLY_MXFP4_MOE";
    default: return nullptr;
  }
}

// A metadata value as JSON: numbers, strings, bools; arrays of numbers (some
// architectures store per-layer head counts) as lists; long arrays elided.
json ValueJson(const GgufValue* v) {
  if (v == nullptr) return nullptr;
  if (v->type() == GgufValueType::kFloat32) {
    // Shortest decimal that reads back as the same float: 1e-05, not 9.99999974737875e-06.
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof(buf), static_cast<float>(*v->as_float()));
    return std::strtod(std::string(buf, res.ptr).c_str(), nullptr);
  }
  if (auto i = v->as_int()) return *i;
  if (auto u = v->as_uint()) return *u;
  if (auto d = v->as_float()) return *d;
  if (auto b = v->as_bool()) return *b;
  if (auto s = v->as_string()) return std::string(*s);
  const GgufArray* a = v->as_array();
  if (a == nullptr || a->items.size() > 1024) return nullptr;
  json out = json::array();
  for (const auto& item : a->items) out.push_back(ValueJson(&item));
  return out;
}

// {"id": N, "text": "..."} for a special token, or null when absent or out of
// range (files use 0xFFFFFFFF for "none").
json TokenJson(const GgufFile& f, std::string_view key, const GgufArray* tokens) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return nullptr;
  auto id = v->as_uint();
  if (!id || tokens == nullptr || *id >= tokens->items.size()) return nullptr;
  auto text = tokens->items[*id].as_string();
  return json{{"id", *id}, {"text", text ? std::string(*text) : std::string()}};
}

// How the engine will run this file (model/arch.h, model/hparams.h): the
// architecture's settings as read from the metadata, or why it cannot.
json GraphJson(const GgufFile& f) {
  auto hp = ReadHParams(f);
  if (!hp.ok()) return {{"supported", false}, {"error", hp.status().message()}};
  const ArchSpec& spec = *hp->spec;
  json local = json::array();
  for (int32_t il = 0; il < hp->n_layer; ++il) {
    if (hp->layers[static_cast<size_t>(il)].sliding_window) local.push_back(il);
  }
  auto factors = [&](const char* name) -> json {
    const GgufTensorInfo* t = f.FindTensor(name);
    if (t == nullptr || t->type != GgmlType::kF32 || t->n_elements == 0) return nullptr;
    const auto* v = reinterpret_cast<const float*>(t->data);
    const auto [lo, hi] = std::minmax_element(v, v + t->n_elements);
    return {{"count", t->n_elements}, {"min", *lo}, {"max", *hi}};
  };
  float local_base = hp->rope.freq_base;
  for (const LayerParams& l : hp->layers) {
    if (l.sliding_window) local_base = l.rope.freq_base;
  }
  return {{"supported", true},
          // Embeddings: an encoder embeds only (Engine::Embed), a decoder
          // generates and can embed too; the pooling either one uses.
          {"kind", spec.encoder ? "encoder (embeddings only)" : "decoder"},
          {"pooling", PoolingName(hp->pooling)},
          {"causal", hp->causal},
          {"norm", spec.norm == NormKind::kLayer ? "layernorm (post-norm residual)" : "rmsnorm"},
          {"head_dim", hp->head_dim},
          {"activation", spec.activation == FfnActivation::kGeluTanh ? "gelu_tanh" : "silu"},
          {"rope_style", !spec.rope                             ? "no (absolute positions)"
                         : spec.rope_style == RopeStyle::kNeox ? "neox"
                                                               : "interleaved"},
          {"qk_norm", spec.qk_norm},
          {"post_norms", spec.post_norms},
          {"qkv_bias", spec.qkv_bias},
          {"fused_qkv", f.FindTensor("blk.0.attn_qkv.weight") != nullptr},
          {"embedding_scale", hp->embd_scale},
          {"query_scale", hp->attn_scale},
          {"attn_softcap", hp->attn_softcap},
          {"final_softcap", hp->final_softcap},
          {"sliding_window", hp->sliding_window},
          {"sliding_layers", local},
          {"local_rope_base", local_base},
          {"rope_attn_factor", hp->rope.attn_factor},
          {"rope_freqs", factors("rope_freqs.weight")},
          {"rope_factors_short", factors("rope_factors_short.weight")},
          {"rope_factors_long", factors("rope_factors_long.weight")},
          // Longrope: a run whose context (positions per sequence) exceeds
          // this uses the long factors, else the short ones (RopeFactorsForContext).
          {"rope_original_context", spec.longrope ? json(hp->rope_orig_ctx) : json(nullptr)}};
}

json BuildReport(const GgufFile& f, const std::string& path, bool with_tensors) {
  json r;
  auto str = [&](std::string_view key) -> json {
    const GgufValue* v = f.Find(key);
    auto s = v != nullptr ? v->as_string() : std::nullopt;
    return s ? json(std::string(*s)) : json(nullptr);
  };
  r["file"] = path;
  r["file_size"] = f.file_size();
  r["gguf_version"] = f.version();
  r["alignment"] = f.alignment();
  r["metadata_count"] = f.metadata().size();
  r["tensor_count"] = f.tensors().size();
  r["architecture"] = str("general.architecture");
  r["name"] = str("general.name");
  r["parameters"] = f.ParameterCount();
  r["tensor_bytes"] = f.TensorBytes();
  const GgufValue* ftype = f.Find("general.file_type");
  const char* ftype_name = ftype != nullptr && ftype->as_uint() ? FileTypeName(*ftype->as_uint()) : nullptr;
  r["file_type"] = ftype_name != nullptr ? json(ftype_name) : json(nullptr);

  std::map<std::string, std::pair<uint64_t, uint64_t>> types;  // name -> tensors, bytes
  for (const auto& t : f.tensors()) {
    auto& [count, bytes] = types[TypeName(t.type)];
    ++count;
    bytes += t.n_bytes;
  }
  r["types"] = json::object();
  for (const auto& [name, cb] : types) r["types"][name] = {{"tensors", cb.first}, {"bytes", cb.second}};

  const std::string arch = r["architecture"].is_string() ? r["architecture"].get<std::string>() : "";
  auto hp = [&](const std::string& suffix) { return ValueJson(f.Find(arch + "." + suffix)); };
  r["context_length"] = hp("context_length");
  r["embedding_length"] = hp("embedding_length");
  r["feed_forward_length"] = hp("feed_forward_length");
  r["block_count"] = hp("block_count");
  r["head_count"] = hp("attention.head_count");
  r["head_count_kv"] = hp("attention.head_count_kv");
  r["rms_norm_eps"] = hp("attention.layer_norm_rms_epsilon");
  r["rope"] = {{"dimension_count", hp("rope.dimension_count")},
               {"freq_base", hp("rope.freq_base")},
               {"scaling_type", hp("rope.scaling.type")},
               {"scaling_factor", hp("rope.scaling.factor")},
               {"original_context_length", hp("rope.scaling.original_context_length")}};

  r["graph"] = GraphJson(f);

  const GgufArray* tokens = f.GetArray("tokenizer.ggml.tokens");
  r["vocab"] = {{"model", str("tokenizer.ggml.model")},
                {"pre", str("tokenizer.ggml.pre")},
                {"size", tokens != nullptr ? json(tokens->items.size()) : json(nullptr)},
                {"merges", f.GetArray("tokenizer.ggml.merges") != nullptr
                               ? json(f.GetArray("tokenizer.ggml.merges")->items.size())
                               : json(nullptr)},
                {"bos", TokenJson(f, "tokenizer.ggml.bos_token_id", tokens)},
                {"eos", TokenJson(f, "tokenizer.ggml.eos_token_id", tokens)},
                {"eot", TokenJson(f, "tokenizer.ggml.eot_token_id", tokens)},
                {"pad", TokenJson(f, "tokenizer.ggml.padding_token_id", tokens)},
                {"unk", TokenJson(f, "tokenizer.ggml.unknown_token_id", tokens)}};
  const json tmpl = str("tokenizer.chat_template");
  r["chat_template"] = tmpl.is_string();
  r["chat_template_length"] = tmpl.is_string() ? json(tmpl.get<std::string>().size()) : json(nullptr);

  if (with_tensors) {
    json list = json::array();
    for (const auto& t : f.tensors()) {
      list.push_back({{"name", std::string(t.name)},
                      {"type", TypeName(t.type)},
                      {"dims", t.dims},
                      {"elements", t.n_elements},
                      {"bytes", t.n_bytes},
                      {"offset", t.offset}});
    }
    r["tensors"] = std::move(list);
  }
  return r;
}

// 260.1K, 12.3M, 1.24B.
std::string HumanCount(uint64_t n) {
  char buf[32];
  const double d = static_cast<double>(n);
  if (n < 1000) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64, n);
  } else if (n < 1000'000) {
    std::snprintf(buf, sizeof(buf), "%.1fK", d / 1e3);
  } else if (n < 1000'000'000) {
    std::snprintf(buf, sizeof(buf), "%.1fM", d / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2fB", d / 1e9);
  }
  return buf;
}

std::string HumanBytes(uint64_t n) {
  char buf[32];
  const double d = static_cast<double>(n);
  if (n < 1024) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 " B", n);
  } else if (n < (1u << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", d / 1024);
  } else if (n < (1u << 30)) {
    std::snprintf(buf, sizeof(buf), "%.2f MiB", d / (1 << 20));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", d / (1 << 30));
  }
  return buf;
}

// One JSON scalar for a human line: "-" for null, strings without quotes.
std::string Plain(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Token text with control characters escaped so that one token stays one line.
std::string TokenText(const json& tok) {
  if (tok.is_null()) return "-";
  std::string text = json(tok["text"]).dump(-1, ' ', false, json::error_handler_t::replace);
  return std::to_string(tok["id"].get<uint64_t>()) + " " + text;
}

void PrintHuman(const json& r, std::ostream& out) {
  auto line = [&](const char* label, const std::string& value) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%-22s", label);
    out << buf << value << "\n";
  };
  line("file", r["file"].get<std::string>() + " (" + HumanBytes(r["file_size"]) + ")");
  line("format", "GGUF v" + Plain(r["gguf_version"]) + ", alignment " + Plain(r["alignment"]) + ", " +
                     Plain(r["metadata_count"]) + " metadata keys, " + Plain(r["tensor_count"]) + " tensors");
  line("architecture", Plain(r["architecture"]));
  line("name", Plain(r["name"]));
  line("parameters", HumanCount(r["parameters"]) + " (" + Plain(r["parameters"]) + ")");
  line("file type", r["file_type"].is_null() ? "- (general.file_type not set)" : Plain(r["file_type"]));
  if (r["types"].empty()) {
    line("tensor types", "- (no tensors)");
  }
  bool first = true;
  for (const auto& [name, tb] : r["types"].items()) {
    line(first ? "tensor types" : "",
         name + ": " + Plain(tb["tensors"]) + " tensors, " + HumanBytes(tb["bytes"]));
    first = false;
  }
  line("context length", Plain(r["context_length"]));
  line("embedding length", Plain(r["embedding_length"]));
  line("feed-forward length", Plain(r["feed_forward_length"]));
  line("blocks", Plain(r["block_count"]));
  line("heads / kv heads", Plain(r["head_count"]) + " / " + Plain(r["head_count_kv"]));
  const json& rope = r["rope"];
  std::string rope_text = "dims " + Plain(rope["dimension_count"]) + ", freq base " + Plain(rope["freq_base"]);
  if (!rope["scaling_type"].is_null()) {
    rope_text += ", scaling " + Plain(rope["scaling_type"]) + " x" + Plain(rope["scaling_factor"]) +
                 " (original context " + Plain(rope["original_context_length"]) + ")";
  }
  line("rope", rope_text);
  line("rms norm eps", Plain(r["rms_norm_eps"]));
  const json& g = r["graph"];
  if (!g["supported"].get<bool>()) {
    line("graph", "not runnable: " + Plain(g["error"]));
  } else {
    line("kind", Plain(g["kind"]) + ", pooling " + Plain(g["pooling"]) +
                     (g["causal"].get<bool>() ? ", causal attention" : ", bidirectional attention"));
    std::string graph = Plain(g["activation"]) + " FFN, " + Plain(g["norm"]) + ", " + Plain(g["rope_style"]) +
                        " rope, head dim " + Plain(g["head_dim"]) + ", query scale " + Plain(g["query_scale"]);
    if (g["qk_norm"].get<bool>()) graph += ", Q/K norms";
    if (g["post_norms"].get<bool>()) graph += ", post-norms";
    if (g["qkv_bias"].get<bool>()) graph += ", QKV bias";
    if (g["fused_qkv"].get<bool>()) graph += ", fused QKV";
    if (g["embedding_scale"].get<double>() != 1.0) graph += ", embeddings x" + Plain(g["embedding_scale"]);
    line("graph", graph);
    std::string window = "none";
    if (g["sliding_window"].get<int64_t>() > 0) {
      window = Plain(g["sliding_window"]) + " positions on " + std::to_string(g["sliding_layers"].size()) + "/" +
               Plain(r["block_count"]) + " layers " + g["sliding_layers"].dump() + ", their rope base " +
               Plain(g["local_rope_base"]);
    }
    line("sliding window", window);
    line("soft-caps", "attention " + Plain(g["attn_softcap"]) + ", final " + Plain(g["final_softcap"]) +
                          " (0: none)");
    for (const char* name : {"rope_freqs", "rope_factors_short", "rope_factors_long"}) {
      const json& fac = g[name];
      if (fac.is_null()) continue;
      line(name, Plain(fac["count"]) + " factors in [" + Plain(fac["min"]) + ", " + Plain(fac["max"]) + "]");
    }
    if (g["rope_attn_factor"].get<double>() != 1.0) line("rope attn factor", Plain(g["rope_attn_factor"]));
    if (!g["rope_original_context"].is_null() && !g["rope_factors_long"].is_null()) {
      line("rope factor set", "short for contexts up to " + Plain(g["rope_original_context"]) +
                                  " positions per sequence, long beyond (chosen per run)");
    }
  }
  const json& vocab = r["vocab"];
  std::string vocab_text = Plain(vocab["model"]);
  if (!vocab["pre"].is_null()) vocab_text += " (pre " + Plain(vocab["pre"]) + ")";
  vocab_text += ", " + Plain(vocab["size"]) + " tokens";
  if (!vocab["merges"].is_null()) vocab_text += ", " + Plain(vocab["merges"]) + " merges";
  line("vocab", vocab_text);
  for (const char* tok : {"bos", "eos", "eot", "pad", "unk"}) {
    line((std::string(tok) + " token").c_str(), TokenText(vocab[tok]));
  }
  line("chat template", r["chat_template"].get<bool>()
                            ? "present (" + Plain(r["chat_template_length"]) + " chars)"
                            : "none");

  if (!r.contains("tensors")) return;
  size_t name_w = 4, dims_w = 4;
  std::vector<std::string> dims_text;
  for (const auto& t : r["tensors"]) {
    std::string d;
    for (const auto& x : t["dims"]) d += (d.empty() ? "" : " x ") + Plain(x);
    dims_text.push_back(d);
    name_w = std::max(name_w, t["name"].get<std::string>().size());
    dims_w = std::max(dims_w, d.size());
  }
  out << "\n";
  char buf[512];
  auto row = [&](const std::string& name, const std::string& type, const std::string& dims,
                 const std::string& bytes) {
    std::snprintf(buf, sizeof(buf), "%-*s  %-7s  %-*s  %10s\n", static_cast<int>(name_w), name.c_str(),
                  type.c_str(), static_cast<int>(dims_w), dims.c_str(), bytes.c_str());
    out << buf;
  };
  row("name", "type", "dims", "bytes");
  size_t i = 0;
  for (const auto& t : r["tensors"]) {
    row(t["name"].get<std::string>(), t["type"].get<std::string>(), dims_text[i++], HumanBytes(t["bytes"]));
  }
}

}  // namespace

void RegisterInspect(CLI::App& app) {
  struct Options {
    std::string path;
    bool json = false;
    bool tensors = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show what a GGUF file holds (metadata, tensor types, vocab)");
  cmd->add_option("file", opts->path, "GGUF file")->required();
  cmd->add_flag("--json", opts->json, "Print one JSON object with stable keys");
  cmd->add_flag("--tensors", opts->tensors, "Also list every tensor (name, type, dims, bytes)");
  cmd->callback([opts] {
    auto f = GgufFile::Open(opts->path);
    // A missing, unreadable or corrupt file is a runtime failure (exit 1),
    // whatever the status code, never a usage error.
    if (!f.ok()) Fail(f.status().ToString(), kExitRuntimeError);
    const json report = BuildReport(**f, opts->path, opts->tensors);
    if (opts->json) {
      // Metadata strings are untrusted bytes: invalid UTF-8 is replaced, not thrown.
      std::cout << report.dump(2, ' ', false, json::error_handler_t::replace) << std::endl;
    } else {
      PrintHuman(report, std::cout);
      std::cout.flush();
    }
  });
}

}  // namespace jarvis::cli
