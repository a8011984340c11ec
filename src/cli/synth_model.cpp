#include "cli/synth_model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>

#include "cli/synth_random.h"
#include "cli/synth_vocab.h"
#include "model/arch.h"
#include "quant/quantize.h"

namespace jarvis::synth {
namespace {

constexpr float kWeightStd = 0.02f;

bool IsNormName(std::string_view name) {
  constexpr std::string_view kSuffix = "_norm.weight";
  return name.size() >= kSuffix.size() && name.substr(name.size() - kSuffix.size()) == kSuffix;
}

}  // namespace

std::vector<TensorSpec> PlanTensors(const ModelPreset& p) {
  ArchShape shape;
  shape.n_embd = p.dim;
  shape.n_layer = p.n_layers;
  shape.n_head = p.n_heads;
  shape.n_head_kv = p.n_kv_heads;
  shape.head_dim = p.head_dim();
  shape.n_ff = p.ffn_dim;
  shape.n_vocab = p.vocab_size;
  shape.n_rot = p.head_dim();
  shape.tied_embeddings = p.tied_embeddings;
  shape.fused_qkv = true;  // llama.cpp's phi3 and nomic-bert converters write attn_qkv
  shape.n_ctx_train = p.context_length;
  shape.n_token_types = p.token_types;
  const ArchSpec* spec = FindArch(p.arch);
  std::vector<TensorSpec> t;
  for (TensorEntry& e : ArchTensors(*spec, shape)) {
    const bool rope_factors = e.role == TensorRole::kRopeFactorsShort || e.role == TensorRole::kRopeFactorsLong;
    if (rope_factors && !p.longrope) continue;  // rope_factors_* only for longrope presets
    t.push_back({std::move(e.name), std::move(e.dims)});
  }
  return t;
}

void AddModelMetadata(const ModelPreset& p, const QuantTarget& target, uint64_t seed,
                      GgufWriter* w) {
  auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
  const std::string a(p.arch);
  w->SetString("general.architecture", a);
  w->SetString("general.name", p.display_name);
  w->SetUint32("general.file_type", target.file_type);
  w->SetUint32("general.quantization_version", 2);
  w->SetUint32(a + ".context_length", u32(p.context_length));
  w->SetUint32(a + ".embedding_length", u32(p.dim));
  w->SetUint32(a + ".block_count", u32(p.n_layers));
  w->SetUint32(a + ".feed_forward_length", u32(p.ffn_dim));
  w->SetUint32(a + ".attention.head_count", u32(p.n_heads));
  const ArchSpec* spec = FindArch(p.arch);
  if (spec->encoder) {
    // As llama.cpp's BertModel / NomicBertModel converters write them: no
    // head_count_kv (BERT has none), LayerNorm epsilon, bidirectional
    // attention, the sentence-transformers pooling; rope only for nomic-bert.
    w->SetFloat32(a + ".attention.layer_norm_epsilon", p.rms_eps);
    w->SetBool(a + ".attention.causal", false);
    if (p.pooling_type > 0) w->SetUint32(a + ".pooling_type", static_cast<uint32_t>(p.pooling_type));
    if (spec->rope) w->SetFloat32(a + ".rope.freq_base", p.rope_freq_base);
  } else {
    w->SetUint32(a + ".attention.head_count_kv", u32(p.n_kv_heads));
    w->SetFloat32(a + ".attention.layer_norm_rms_epsilon", p.rms_eps);
    w->SetFloat32(a + ".rope.freq_base", p.rope_freq_base);
    w->SetUint32(a + ".rope.dimension_count", u32(p.head_dim()));
  }
  w->SetUint32(a + ".vocab_size", u32(p.vocab_size));
  if (p.key_length > 0) {
    w->SetUint32(a + ".attention.key_length", u32(p.key_length));
    w->SetUint32(a + ".attention.value_length", u32(p.key_length));
  }
  if (p.sliding_window > 0) w->SetUint32(a + ".attention.sliding_window", u32(p.sliding_window));
  if (p.swa_pattern > 0) w->SetUint32(a + ".attention.sliding_window_pattern", u32(p.swa_pattern));
  if (p.attn_softcap > 0.0f) w->SetFloat32(a + ".attn_logit_softcapping", p.attn_softcap);
  if (p.final_softcap > 0.0f) w->SetFloat32(a + ".final_logit_softcapping", p.final_softcap);
  if (p.rope_base_swa > 0.0f) w->SetFloat32(a + ".rope.freq_base_swa", p.rope_base_swa);
  if (p.longrope) {
    // As the phi3 converter writes a 128k model: the attention factor
    // sqrt(1 + ln(scale) / ln(original context)).
    const double scale = static_cast<double>(p.context_length) / static_cast<double>(p.rope_orig_ctx);
    const double orig = static_cast<double>(p.rope_orig_ctx);
    const double factor = scale > 1.0 ? std::sqrt(1.0 + std::log(scale) / std::log(orig)) : 1.0;
    w->SetFloat32(a + ".rope.scaling.attn_factor", static_cast<float>(factor));
    w->SetUint32(a + ".rope.scaling.original_context_length", u32(p.rope_orig_ctx));
  }
  // Provenance, so a benchmark can tell a synthetic file from a real one.
  w->SetString("jarvis.synth.preset", p.name);
  w->SetUint64("jarvis.synth.seed", seed);
}

void GenerateRow(uint64_t seed, std::string_view name, int64_t row, float* out, int64_t n) {
  uint64_t mix = seed ^ HashName(name);
  const uint64_t tensor_key = SplitMix64(mix);
  Xoshiro256 rng(tensor_key ^ (static_cast<uint64_t>(row) * 0xd1b54a32d192ed03ull));
  // Norm weights (Gemma's already hold the +1, as llama.cpp's converter
  // writes them) and rope factors (divisors) sit around 1.
  const bool around_one = IsNormName(name) || name.substr(0, 12) == "rope_factors";
  const float base = around_one ? 1.0f : 0.0f;
  for (int64_t i = 0; i < n; ++i) out[i] = base + kWeightStd * rng.NextGaussian();
}

std::string FallbackNote(std::string_view tensor, int64_t row_length,
                         const TensorTypeChoice& choice) {
  return std::string(tensor) + ": row length " + std::to_string(row_length) +
         " is not a multiple of the " + TypeName(choice.wanted) + " block size, using " +
         TypeName(choice.type);
}

Status PlanSyntheticModel(const ModelPreset& preset, const QuantTarget& target, uint64_t seed,
                          GgufWriter* writer, std::vector<std::string>* notes) {
  AddModelMetadata(preset, target, seed, writer);
  AddVocabMetadata(BuildVocab(preset.vocab, preset.vocab_size), writer);
  ModelShape model;
  model.n_layers = static_cast<int>(preset.n_layers);
  model.n_gqa = preset.n_kv_heads > 0 ? static_cast<int>(preset.n_heads / preset.n_kv_heads) : 1;
  model.tied = preset.tied_embeddings;
  for (const auto& spec : PlanTensors(preset)) {
    const auto choice = ChooseTensorType(target, spec.name, spec.dims, model);
    if (choice.fell_back() && notes != nullptr)
      notes->push_back(FallbackNote(spec.name, spec.dims[0], choice));
    JARVIS_RETURN_IF_ERROR(writer->AddTensor(spec.name, spec.dims, choice.type));
  }
  return Status::Ok();
}

Status WriteSyntheticTensors(GgufWriter& writer, uint64_t seed, const std::string& path,
                             int threads) {
  uint64_t total_bytes = 0;
  for (const auto& t : writer.tensors()) total_bytes += t.n_bytes;
  ThreadPool pool(threads > 0 ? threads : DefaultThreadCount());
  ProgressBar progress(total_bytes);
  const Status s =
      writer.WriteFile(path, [&](size_t, const GgufTensorPlan& t, std::span<uint8_t> out) {
        progress.SetLabel(t.name);
        auto source = [&](int64_t row, float* values) {
          GenerateRow(seed, t.name, row, values, t.dims[0]);
          return Status::Ok();
        };
        return FillTensorRows(t, source, out, pool, &progress);
      });
  progress.Finish();
  return s;
}

Status WriteSyntheticModel(std::string_view preset_name, std::string_view type, uint64_t seed,
                           const std::string& path, int threads) {
  const ModelPreset* preset = FindPreset(preset_name);
  if (preset == nullptr) {
    return Status::InvalidArgument("unknown preset '" + std::string(preset_name) +
                                   "' (valid: " + PresetNames() + ")");
  }
  const auto target = FindQuantTarget(type);
  if (!target) {
    return Status::InvalidArgument("unknown type '" + std::string(type) +
                                   "' (valid: " + QuantTargetNames() + ")");
  }
  GgufWriter writer;
  JARVIS_RETURN_IF_ERROR(PlanSyntheticModel(*preset, *target, seed, &writer, nullptr));
  return WriteSyntheticTensors(writer, seed, path, threads);
}

Status FillTensorRows(const GgufTensorPlan& t, const RowSource& source, std::span<uint8_t> out,
                      ThreadPool& pool, ProgressBar* progress) {
  const int64_t row_length = t.dims[0];
  const int64_t rows = static_cast<int64_t>(t.n_bytes / RowSize(t.type, row_length));
  const size_t row_bytes = RowSize(t.type, row_length);
  if (rows * static_cast<int64_t>(row_bytes) != static_cast<int64_t>(out.size())) {
    return Status::Internal("tensor '" + t.name + "': buffer size does not match its rows");
  }

  // Work in batches of about 4M values so the progress bar moves smoothly and
  // an error stops the work early.
  const int64_t batch = std::max<int64_t>(1, (int64_t{1} << 22) / row_length);
  std::mutex error_mu;
  Status first_error;
  std::atomic<bool> failed{false};
  for (int64_t start = 0; start < rows && !failed.load(); start += batch) {
    const int64_t count = std::min(batch, rows - start);
    pool.ParallelFor(count, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> values(static_cast<size_t>(row_length));
      for (int64_t r = start + begin; r < start + end && !failed.load(); ++r) {
        Status s = source(r, values.data());
        if (s.ok()) s = QuantizeRow(t.type, values.data(), out.data() + r * row_bytes, row_length);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (!failed.exchange(true)) first_error = std::move(s);
        }
      }
    });
    if (progress != nullptr) progress->Advance(static_cast<uint64_t>(count) * row_bytes);
  }
  return first_error;
}

}  // namespace jarvis::synth
