#include "cli/synth_presets.h"

#include <vector>

namespace jarvis::synth {
namespace {

ModelPreset Llama(std::string_view name, std::string_view display, int64_t dim, int64_t layers, int64_t heads,
                  int64_t kv_heads, int64_t ffn, int64_t vocab, int64_t ctx, float rope_base, float eps, bool tied,
                  VocabKind vocab_kind) {
  ModelPreset p{"llama", name, display, dim, layers, heads, kv_heads, ffn,
                vocab, ctx, rope_base, eps, tied, vocab_kind};
  return p;
}

ModelPreset WithArch(ModelPreset p, std::string_view arch) {
  p.arch = arch;
  return p;
}

// The hyper-parameters as llama.cpp's converters write them for the published
// checkpoints (config.json of Qwen/Qwen3-0.6B, google/gemma-2-2b,
// google/gemma-3-1b-pt, microsoft/Phi-3-mini-4k-instruct). The tiny-<arch>
// presets keep the features at test sizes (every row a multiple of 256 for
// the K formats, files of a few MB).
std::vector<ModelPreset> BuildPresets() {
  std::vector<ModelPreset> v;
  // `tiny` keeps every row length a multiple of 256 so that the K formats apply
  // to every matrix, while the whole F32 file stays under 5 MB.
  v.push_back(Llama("tiny", "jarvis-synth-tiny", 256, 2, 4, 2, 256, 512, 512, 10000.0f, 1e-5f, false,
                    VocabKind::kSentencePiece));
  v.push_back(Llama("tinyllama-1.1b", "jarvis-synth-tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000, 2048, 10000.0f,
                    1e-5f, false, VocabKind::kSentencePiece));
  v.push_back(Llama("llama3-1b", "jarvis-synth-llama3-1b", 2048, 16, 32, 8, 8192, 128256, 131072, 500000.0f, 1e-5f,
                    true, VocabKind::kLlama3Bpe));
  v.push_back(Llama("llama3-8b", "jarvis-synth-llama3-8b", 4096, 32, 32, 8, 14336, 128256, 8192, 500000.0f, 1e-5f,
                    false, VocabKind::kLlama3Bpe));

  ModelPreset qwen3 = WithArch(Llama("qwen3-0.6b", "jarvis-synth-qwen3-0.6b", 1024, 28, 16, 8, 3072, 151936, 40960,
                                     1000000.0f, 1e-6f, true, VocabKind::kLlama3Bpe), "qwen3");
  qwen3.key_length = 128;
  v.push_back(qwen3);
  ModelPreset gemma2 = WithArch(Llama("gemma2-2b", "jarvis-synth-gemma2-2b", 2304, 26, 8, 4, 9216, 256000, 8192,
                                      10000.0f, 1e-6f, true, VocabKind::kSentencePiece), "gemma2");
  gemma2.key_length = 256;
  gemma2.sliding_window = 4096;
  gemma2.attn_softcap = 50.0f;
  gemma2.final_softcap = 30.0f;
  v.push_back(gemma2);
  ModelPreset gemma3 = WithArch(Llama("gemma3-1b", "jarvis-synth-gemma3-1b", 1152, 26, 4, 1, 6912, 262144, 32768,
                                      1000000.0f, 1e-6f, true, VocabKind::kSentencePiece), "gemma3");
  gemma3.key_length = 256;
  gemma3.sliding_window = 512;
  gemma3.rope_base_swa = 10000.0f;
  v.push_back(gemma3);
  ModelPreset phi3 = WithArch(Llama("phi3-mini", "jarvis-synth-phi3-mini", 3072, 32, 32, 32, 8192, 32064, 4096,
                                    10000.0f, 1e-5f, false, VocabKind::kSentencePiece), "phi3");
  phi3.sliding_window = 2047;
  v.push_back(phi3);

  // Encoders (embeddings): config.json of nomic-ai/nomic-embed-text-v1.5 and
  // sentence-transformers/all-MiniLM-L6-v2, as llama.cpp converts them
  // (nomic: 2048 positions, rotary base 1000; both mean pooling, two token types).
  ModelPreset nomic = WithArch(Llama("nomic-embed-text-v1.5", "jarvis-synth-nomic-embed-text-v1.5", 768, 12, 12, 12,
                                     3072, 30522, 2048, 1000.0f, 1e-12f, false, VocabKind::kWordPiece),
                               "nomic-bert");
  nomic.pooling_type = 1;
  nomic.token_types = 2;
  v.push_back(nomic);
  ModelPreset minilm = WithArch(Llama("all-minilm-l6-v2", "jarvis-synth-all-minilm-l6-v2", 384, 6, 12, 12, 1536,
                                      30522, 512, 10000.0f, 1e-12f, false, VocabKind::kWordPiece),
                                "bert");
  minilm.pooling_type = 1;
  minilm.token_types = 2;
  v.push_back(minilm);

  // Test sizes of each architecture's features.
  // `tiny` with a 4096-token context, for chat tests: a real template with
  // tools renders to several hundred tokens of this small vocabulary.
  v.push_back(Llama("tiny-chat", "jarvis-synth-tiny-chat", 256, 2, 4, 2, 256, 512, 4096, 10000.0f, 1e-5f, false,
                    VocabKind::kSentencePiece));
  ModelPreset tq = WithArch(Llama("tiny-qwen3", "jarvis-synth-tiny-qwen3", 256, 2, 4, 2, 256, 512, 512, 1000000.0f,
                                  1e-6f, true, VocabKind::kSentencePiece), "qwen3");
  tq.key_length = 128;
  v.push_back(tq);
  ModelPreset tg2 = WithArch(Llama("tiny-gemma2", "jarvis-synth-tiny-gemma2", 256, 2, 2, 1, 512, 512, 512, 10000.0f,
                                   1e-6f, true, VocabKind::kSentencePiece), "gemma2");
  tg2.key_length = 256;
  tg2.sliding_window = 8;
  tg2.attn_softcap = 50.0f;
  tg2.final_softcap = 30.0f;
  v.push_back(tg2);
  ModelPreset tg3 = WithArch(Llama("tiny-gemma3", "jarvis-synth-tiny-gemma3", 256, 3, 2, 1, 512, 512, 512, 1000000.0f,
                                   1e-6f, true, VocabKind::kSentencePiece), "gemma3");
  tg3.key_length = 256;
  tg3.sliding_window = 8;
  tg3.swa_pattern = 3;
  tg3.rope_base_swa = 10000.0f;
  v.push_back(tg3);
  ModelPreset tp = WithArch(Llama("tiny-phi3", "jarvis-synth-tiny-phi3", 256, 2, 4, 4, 256, 512, 512, 10000.0f, 1e-5f,
                                  false, VocabKind::kSentencePiece), "phi3");
  tp.sliding_window = 16;
  tp.longrope = true;
  tp.rope_orig_ctx = 256;
  v.push_back(tp);
  ModelPreset tn = WithArch(Llama("tiny-nomic-bert", "jarvis-synth-tiny-nomic-bert", 256, 2, 4, 4, 512, 2048, 512,
                                  1000.0f, 1e-12f, false, VocabKind::kWordPiece), "nomic-bert");
  tn.pooling_type = 1;
  tn.token_types = 2;
  v.push_back(tn);
  ModelPreset tb = WithArch(Llama("tiny-bert", "jarvis-synth-tiny-bert", 256, 2, 4, 4, 512, 2048, 512, 10000.0f,
                                  1e-12f, false, VocabKind::kWordPiece), "bert");
  tb.pooling_type = 1;
  tb.token_types = 2;
  v.push_back(tb);
  return v;
}

const std::vector<ModelPreset>& Presets() {
  static const std::vector<ModelPreset> presets = BuildPresets();
  return presets;
}

}  // namespace

const ModelPreset* FindPreset(std::string_view name) {
  for (const auto& p : Presets()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string PresetNames() {
  std::string out;
  for (const auto& p : Presets()) {
    if (!out.empty()) out += ", ";
    out += p.name;
  }
  return out;
}

}  // namespace jarvis::synth
