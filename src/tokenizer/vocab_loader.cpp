// Reading a Vocab from GGUF metadata, following llama.cpp's llama_vocab::load:
// defaults per vocabulary kind, tokenizer.ggml.* keys overriding them, then the
// fix-ups llama.cpp applies by token text (EOT/EOG/FIM detection), which change
// how special tokens are matched and rendered.
#include <algorithm>
#include <array>
#include <cctype>

#include "gguf/gguf_reader.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece_encoder.h"

namespace jarvis {

namespace {

constexpr std::string_view kTokensKey = "tokenizer.ggml.tokens";

// Reads an optional bool key: unchanged when absent, Corruption when not a bool.
Status ReadBool(const GgufFile& gguf, std::string_view key, bool* value) {
  const GgufValue* v = gguf.Find(key);
  if (v == nullptr) return Status::Ok();
  const auto b = v->as_bool();
  if (!b) return Status::Corruption(gguf.name() + ": " + std::string(key) + " is not a bool");
  *value = *b;
  return Status::Ok();
}

// Reads an optional token-id key; ids outside the vocabulary are ignored, like
// llama.cpp does ("bad special token ... using default id"), which is how
// converters mark "none" (e.g. 4294967295).
void ReadTokenId(const GgufFile& gguf, std::string_view key, int32_t n_tokens, int32_t* id) {
  const GgufValue* v = gguf.Find(key);
  if (v == nullptr) return;
  const auto u = v->as_uint();
  if (u && *u < static_cast<uint64_t>(n_tokens)) *id = static_cast<int32_t>(*u);
}

uint16_t AttrsFromType(int64_t type) {
  switch (static_cast<TokenType>(type)) {
    case TokenType::kNormal: return kAttrNormal;
    case TokenType::kUnknown: return kAttrUnknown;
    case TokenType::kControl: return kAttrControl;
    case TokenType::kUserDefined: return kAttrUserDefined;
    case TokenType::kUnused: return kAttrUnused;
    case TokenType::kByte: return kAttrByte;
    default: return 0;  // undefined
  }
}

Status ReadTokens(const GgufFile& gguf, Vocab* vocab) {
  const GgufArray* tokens = gguf.GetArray(kTokensKey);
  if (tokens == nullptr) {
    return Status::NotFound(gguf.name() + ": no " + std::string(kTokensKey) + " (no vocabulary)");
  }
  if (tokens->element_type != GgufValueType::kString || tokens->items.empty() ||
      tokens->items.size() >= static_cast<size_t>(INT32_MAX)) {
    return Status::Corruption(gguf.name() + ": " + std::string(kTokensKey) +
                              " must be a non-empty array of strings");
  }
  const size_t n = tokens->items.size();
  std::vector<std::string_view> texts(n);
  for (size_t i = 0; i < n; ++i) texts[i] = *tokens->items[i].as_string();

  std::vector<float> scores(n, 0.0f);
  if (const GgufArray* a = gguf.GetArray("tokenizer.ggml.scores")) {
    if (a->items.size() < n) return Status::Corruption(gguf.name() + ": fewer scores than tokens");
    for (size_t i = 0; i < n; ++i) {
      const auto f = a->items[i].as_float();
      if (!f) return Status::Corruption(gguf.name() + ": tokenizer.ggml.scores is not numeric");
      scores[i] = static_cast<float>(*f);
    }
  }
  std::vector<uint16_t> attrs(n, kAttrNormal);
  if (const GgufArray* a = gguf.GetArray("tokenizer.ggml.token_type")) {
    if (a->items.size() < n)
      return Status::Corruption(gguf.name() + ": fewer token types than tokens");
    for (size_t i = 0; i < n; ++i) {
      const auto t = a->items[i].as_int();
      if (!t) return Status::Corruption(gguf.name() + ": tokenizer.ggml.token_type is not integer");
      attrs[i] = AttrsFromType(*t);
    }
  }
  Status s = vocab->SetTokens(texts, std::move(scores), std::move(attrs));
  if (!s.ok()) return Status::Corruption(gguf.name() + ": " + s.message());
  return Status::Ok();
}

Status ReadMerges(const GgufFile& gguf, Vocab* vocab) {
  const GgufArray* merges = gguf.GetArray("tokenizer.ggml.merges");
  if (merges == nullptr || merges->element_type != GgufValueType::kString) {
    return Status::Corruption(gguf.name() + ": BPE vocabulary without tokenizer.ggml.merges");
  }
  vocab->ReserveMerges(merges->items.size());
  for (size_t i = 0; i < merges->items.size(); ++i) {
    vocab->AddMerge(*merges->items[i].as_string(), static_cast<int32_t>(i));
  }
  return Status::Ok();
}

void AddAttr(Vocab* vocab, int32_t id, uint16_t bits) {
  vocab->SetAttrs(id, vocab->attrs(id) | bits);
}

// First token (in list order) whose text is in `names`; -1 if none. llama.cpp
// walks its hash map instead, so with several candidates its pick is
// unspecified; list order makes ours deterministic (Llama 3: <|eot_id|>).
int32_t FindFirst(const Vocab& vocab, std::initializer_list<std::string_view> names) {
  for (const std::string_view name : names) {
    const int32_t id = vocab.Find(name);
    if (id >= 0) return id;
  }
  return -1;
}

// Texts of tokens that end generation (llama.cpp's list).
// clang-format off
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "[e~[",
};
// clang-format on

// Fills an unset special id by text; the token becomes control-type, as
// llama.cpp forces ("control-looking token ... was not control-type").
void DetectByText(Vocab* vocab, int32_t* id, std::initializer_list<std::string_view> names) {
  if (*id >= 0) return;
  *id = FindFirst(*vocab, names);
  if (*id >= 0) AddAttr(vocab, *id, kAttrControl);
}

void DetectSpecialTokens(Vocab* v) {
  SpecialTokenIds& s = v->special;
  DetectByText(v, &s.eot,
               {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "<end_of_utterance>"});
  DetectByText(v, &s.eom, {"<|eom_id|>"});
  DetectByText(v, &s.fim_pre,
               {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\uFF5Cfim\u2581begin\uFF5C>",
                "<PRE>", "\u2581<PRE>", "<|code_prefix|>", "<|prefix|>"});
  DetectByText(v, &s.fim_suf,
               {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\uFF5Cfim\u2581hole\uFF5C>",
                "<SUF>", "\u2581<SUF>", "<|code_suffix|>", "<|suffix|>"});
  DetectByText(v, &s.fim_mid,
               {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\uFF5Cfim\u2581end\uFF5C>",
                "<MID>", "\u2581<MID>", "<|code_middle|>", "<|middle|>"});
  DetectByText(v, &s.fim_pad, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
  DetectByText(v, &s.fim_rep,
               {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
  DetectByText(v, &s.fim_sep, {"<|file_sep|>"});

  // End-of-generation tokens: FIM pad/repo/sep, every token with one of these
  // texts (forced to control), and EOS/EOT/EOM.
  std::vector<int32_t>& eog = v->eog_ids;
  for (const int32_t id : {s.fim_pad, s.fim_rep, s.fim_sep}) {
    if (id >= 0) eog.push_back(id);
  }
  for (const std::string_view name : kEogTexts) {
    const int32_t id = v->Find(name);
    if (id < 0) continue;
    eog.push_back(id);
    AddAttr(v, id, kAttrControl);
  }
  // gpt-oss: these structural tokens are always rendered.
  for (const std::string_view name : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    const int32_t id = v->Find(name);
    if (id >= 0) v->SetAttrs(id, kAttrUserDefined);
  }
  for (const int32_t id : {s.eos, s.eot, s.eom}) {
    if (id >= 0) eog.push_back(id);
  }
  const auto in_eog = [&](std::string_view name) {
    const int32_t id = v->Find(name);
    return id >= 0 && std::find(eog.begin(), eog.end(), id) != eog.end() ? id : -1;
  };
  const auto drop_eog = [&](int32_t id, uint16_t new_attrs) {
    eog.erase(std::remove(eog.begin(), eog.end(), id), eog.end());
    v->SetAttrs(id, new_attrs);
  };
  // o200k_harmony / solar-open: <|end|> ends a message, not the generation.
  const int32_t end_id = in_eog("<|end|>");
  const bool harmony = in_eog("<|return|>") >= 0 && in_eog("<|call|>") >= 0;
  const bool solar =
      (in_eog("<|call|>") >= 0 || in_eog("<|calls|>") >= 0) && in_eog("<|flush|>") >= 0;
  if (end_id >= 0 && (harmony || solar)) drop_eog(end_id, kAttrUserDefined);
  // gemma4 / paddleocr: </s> is ordinary text there.
  const int32_t s_id = in_eog("</s>");
  if (s_id >= 0 && in_eog("<|tool_response>") >= 0) drop_eog(s_id, kAttrNormal);
}

// Per-model lstrip/rstrip attributes llama.cpp sets by name (they are not in GGUF).
void ApplyStripAttributes(const GgufFile& gguf, Vocab* v) {
  std::string name(gguf.GetString("general.name").ok() ? *gguf.GetString("general.name") : "");
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto set = [&](std::string_view text, uint16_t bit, bool on) {
    const int32_t id = v->Find(text);
    if (id >= 0) v->SetAttrs(id, on ? (v->attrs(id) | bit) : (v->attrs(id) & ~bit));
  };
  const std::string& pre = v->pre;
  if (pre.find("jina-v2-de") != std::string::npos || pre.find("jina-v2-es") != std::string::npos ||
      pre.find("jina-v2-code") != std::string::npos) {
    set("<mask>", kAttrLstrip, true);
  } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (const int32_t id : v->special_tokens_by_length())
      v->SetAttrs(id, v->attrs(id) | kAttrRstrip);
    set("</s>", kAttrRstrip, true);
    for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) set(t, kAttrRstrip, false);
  }
}

}  // namespace

Result<std::unique_ptr<Vocab>> LoadVocab(const GgufFile& gguf) {
  auto vocab = std::make_unique<Vocab>();
  Vocab& v = *vocab;
  const auto model = gguf.GetString("tokenizer.ggml.model");
  if (!model.ok()) return model.status();

  PreTokenizerConfig pre_config;
  if (*model == "llama") {
    v.kind = VocabKind::kSpm;
    v.special.bos = 1, v.special.eos = 2, v.special.unk = 0;
    v.add_bos = true;
    v.add_space_prefix = true;
  } else if (*model == "gpt2") {
    v.kind = VocabKind::kBpe;
    v.special.bos = 11, v.special.eos = 11;
    if (const GgufValue* pre = gguf.Find("tokenizer.ggml.pre")) {
      if (!pre->as_string())
        return Status::Corruption(gguf.name() + ": tokenizer.ggml.pre is not a string");
      v.pre = std::string(*pre->as_string());
    }
    JARVIS_ASSIGN_OR_RETURN(pre_config, PreTokenizerConfigFor(v.pre));
    v.ignore_merges = pre_config.ignore_merges;
    v.add_bos = pre_config.add_bos_default;
  } else if (*model == "bert") {
    // llama.cpp's defaults (bert-base-uncased's ids), replaced below by the
    // ids of the bracketed names where the vocabulary has them, then by keys.
    v.kind = VocabKind::kWordPiece;
    v.special.bos = v.special.cls = 101, v.special.unk = 100, v.special.sep = 102;
    v.special.pad = 0, v.special.mask = 103;
  } else {
    return Status::Unsupported(gguf.name() + ": tokenizer model '" + std::string(*model) +
                               "' (supported: llama, gpt2, bert)");
  }
  JARVIS_RETURN_IF_ERROR(ReadBool(gguf, "tokenizer.ggml.add_space_prefix", &v.add_space_prefix));
  JARVIS_RETURN_IF_ERROR(ReadTokens(gguf, &v));
  if (v.kind == VocabKind::kBpe) JARVIS_RETURN_IF_ERROR(ReadMerges(gguf, &v));

  const int32_t n = v.size();
  SpecialTokenIds& s = v.special;
  for (int32_t* id : {&s.bos, &s.eos, &s.unk, &s.sep, &s.pad, &s.cls, &s.mask}) {
    if (*id >= n) *id = -1;  // defaults outside a small vocabulary
  }
  if (v.kind == VocabKind::kWordPiece) {
    const auto by_name = [&](std::string_view name, std::initializer_list<int32_t*> ids) {
      const int32_t id = v.Find(name);
      if (id < 0) return;
      for (int32_t* p : ids) *p = id;
    };
    by_name("[CLS]", {&s.bos, &s.cls});
    by_name("[SEP]", {&s.sep});
    by_name("[UNK]", {&s.unk});
    by_name("[PAD]", {&s.pad});
    by_name("[MASK]", {&s.mask});
  }
  const std::array<std::pair<std::string_view, int32_t*>, 18> keys = {{
      {"tokenizer.ggml.bos_token_id", &s.bos},
      {"tokenizer.ggml.eos_token_id", &s.eos},
      {"tokenizer.ggml.eot_token_id", &s.eot},
      {"tokenizer.ggml.eom_token_id", &s.eom},
      {"tokenizer.ggml.unknown_token_id", &s.unk},
      {"tokenizer.ggml.seperator_token_id", &s.sep},  // sic, GGUF's spelling
      {"tokenizer.ggml.padding_token_id", &s.pad},
      {"tokenizer.ggml.fim_pre_token_id", &s.fim_pre},
      {"tokenizer.ggml.fim_suf_token_id", &s.fim_suf},
      {"tokenizer.ggml.fim_mid_token_id", &s.fim_mid},
      {"tokenizer.ggml.fim_pad_token_id", &s.fim_pad},
      {"tokenizer.ggml.fim_rep_token_id", &s.fim_rep},
      {"tokenizer.ggml.fim_sep_token_id", &s.fim_sep},
      {"tokenizer.ggml.prefix_token_id", &s.fim_pre},  // deprecated spellings
      {"tokenizer.ggml.suffix_token_id", &s.fim_suf},
      {"tokenizer.ggml.middle_token_id", &s.fim_mid},
      {"tokenizer.ggml.cls_token_id", &s.cls},
      {"tokenizer.ggml.mask_token_id", &s.mask},
  }};
  for (const auto& [key, id] : keys) ReadTokenId(gguf, key, n, id);
  if (v.kind == VocabKind::kWordPiece) {
    // [CLS] starts every sequence: a cls key wins over bos (HF's BERT
    // tokenizer has no bos_token, so converters write cls_token_id).
    if (gguf.Find("tokenizer.ggml.cls_token_id") != nullptr && s.cls >= 0) s.bos = s.cls;
    if (s.cls < 0) s.cls = s.bos;
    v.add_bos = s.bos >= 0;
    v.add_sep = s.sep >= 0;
    JARVIS_RETURN_IF_ERROR(ReadBool(gguf, "tokenizer.ggml.add_sep_token", &v.add_sep));
    if (v.add_sep && s.sep < 0)
      return Status::Corruption(gguf.name() + ": add_sep_token without a separator token");
    v.add_space_prefix = false;
  }
  JARVIS_RETURN_IF_ERROR(ReadBool(gguf, "tokenizer.ggml.add_bos_token", &v.add_bos));
  JARVIS_RETURN_IF_ERROR(ReadBool(gguf, "tokenizer.ggml.add_eos_token", &v.add_eos));
  if (v.kind == VocabKind::kWordPiece && v.add_eos) {
    // "[CLS] text [SEP]": converters may mark the trailing [SEP] as add_eos.
    v.add_eos = false;
    if (s.sep < 0) return Status::Corruption(gguf.name() + ": add_eos_token without [SEP]");
    v.add_sep = true;
  }
  if (v.add_bos && s.bos < 0)
    return Status::Corruption(gguf.name() + ": add_bos_token without a BOS token");
  if (v.add_eos && s.eos < 0)
    return Status::Corruption(gguf.name() + ": add_eos_token without an EOS token");

  DetectSpecialTokens(&v);
  v.FinishSpecialTokens();
  if (v.kind == VocabKind::kWordPiece) {
    v.wordpiece_phantom = WordPieceVocabIsPhantom(v);
    v.wordpiece_lowercase = WordPieceVocabIsUncased(v);
    for (int32_t id = 0; id < n; ++id)
      v.wordpiece_max_piece_bytes = std::max(v.wordpiece_max_piece_bytes, v.text(id).size());
  }
  ApplyStripAttributes(gguf, &v);
  return vocab;
}

}  // namespace jarvis
