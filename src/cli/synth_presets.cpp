#include "cli/synth_presets.h"

#include <array>

namespace jarvis::synth {
namespace {

// `tiny` keeps every row length a multiple of 256 so that the K formats apply
// to every matrix, while the whole F32 file stays under 5 MB.
constexpr std::array<ModelPreset, 4> kPresets = {{
    {"tiny", "jarvis-synth-tiny", 256, 2, 4, 2, 256, 512, 512, 10000.0f, 1e-5f, false,
     VocabKind::kSentencePiece},
    {"tinyllama-1.1b", "jarvis-synth-tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000, 2048, 10000.0f,
     1e-5f, false, VocabKind::kSentencePiece},
    {"llama3-1b", "jarvis-synth-llama3-1b", 2048, 16, 32, 8, 8192, 128256, 131072, 500000.0f, 1e-5f,
     true, VocabKind::kLlama3Bpe},
    {"llama3-8b", "jarvis-synth-llama3-8b", 4096, 32, 32, 8, 14336, 128256, 8192, 500000.0f, 1e-5f,
     false, VocabKind::kLlama3Bpe},
}};

}  // namespace

const ModelPreset* FindPreset(std::string_view name) {
  for (const auto& p : kPresets) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string PresetNames() {
  std::string out;
  for (const auto& p : kPresets) {
    if (!out.empty()) out += ", ";
    out += p.name;
  }
  return out;
}

}  // namespace jarvis::synth
