#include "cli/synth_vocab.h"

#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_set>

#include "cli/synth_random.h"

namespace jarvis::synth {
namespace {

constexpr uint64_t kVocabSeed = 0x6a61727669730001ull;  // fixed: vocab is independent of --seed
constexpr int kMaxPieceSymbols = 10;

// UTF-8 of a code point below U+0800 (all we need here).
std::string Utf8(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
  return out;
}

// GPT-2's byte-to-symbol table in its own order: the printable Latin-1 bytes
// stand for themselves and come first; the other 68 bytes follow, mapped in
// byte order to U+0100, U+0101, ... (space -> U+0120 'Ġ').
std::vector<std::string> Gpt2ByteSymbols() {
  auto printable = [](int b) {
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
  };
  std::vector<std::string> symbols;
  for (int b = 0; b < 256; ++b) {
    if (printable(b)) symbols.push_back(Utf8(static_cast<uint32_t>(b)));
  }
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    if (!printable(b)) symbols.push_back(Utf8(next++));
  }
  return symbols;
}

struct Piece {
  std::string text;
  int symbols;
};

// A lowercase letter drawn with roughly English frequencies, so that pieces
// look like fragments of words rather than uniform noise.
char FrequentLetter(Xoshiro256& rng) {
  static constexpr std::string_view kLetters = "etaoinshrdlcumwfgypbvkjxqz";
  static constexpr int kWeights[26] = {127, 91, 82, 75, 70, 67, 63, 61, 60, 43, 40, 28, 28,
                                       24,  24, 22, 20, 20, 19, 15, 10, 8,  2,  2,  1,  1};
  int total = 0;
  for (int w : kWeights) total += w;
  int pick = static_cast<int>(rng.Below(static_cast<uint64_t>(total)));
  for (size_t i = 0; i < kLetters.size(); ++i) {
    pick -= kWeights[i];
    if (pick < 0) return kLetters[i];
  }
  return 'e';
}

// Grows `out` with `count` new unique pieces, each the concatenation of two
// earlier pieces: a word start (the space symbol, a capital, or a piece
// beginning with one) or a word-inner piece on the left, and a short
// lowercase piece (or a single letter) on the right. Records each join in
// `merges` when given ("left right"), in creation order, which is a valid BPE
// merge ranking.
void GrowPieces(const std::string& word_start, int64_t count,
                std::unordered_set<std::string>* taken, std::vector<std::string>* out,
                std::vector<std::string>* merges) {
  std::vector<Piece> spaced = {{word_start, 1}};  // pieces that begin a word after a space
  std::vector<Piece> capital;                     // pieces that begin with a capital
  std::vector<Piece> inner;
  std::vector<Piece> tails;
  for (char c = 'A'; c <= 'Z'; ++c) capital.push_back({std::string(1, c), 1});
  for (char c = 'a'; c <= 'z'; ++c) {
    inner.push_back({std::string(1, c), 1});
    tails.push_back({std::string(1, c), 1});
  }

  Xoshiro256 rng(kVocabSeed ^ static_cast<uint64_t>(count));
  int64_t made = 0;
  while (made < count) {
    // Half the pieces start a word (mostly after a space), half continue one.
    const uint64_t kind = rng.Below(10);
    std::vector<Piece>& pool = kind < 4 ? spaced : kind < 5 ? capital : inner;
    const Piece a = pool[rng.Below(pool.size())];
    const Piece b = (rng.Next() & 1) != 0 ? Piece{std::string(1, FrequentLetter(rng)), 1}
                                          : tails[rng.Below(tails.size())];
    Piece joined{a.text + b.text, a.symbols + b.symbols};
    if (joined.symbols > kMaxPieceSymbols || !taken->insert(joined.text).second) continue;
    out->push_back(joined.text);
    if (merges != nullptr) merges->push_back(a.text + " " + b.text);
    ++made;
    if (joined.symbols == kMaxPieceSymbols) continue;
    if (&pool == &inner && joined.symbols <= 4) tails.push_back(joined);
    pool.push_back(std::move(joined));
  }
}

SynthVocab BuildSentencePiece(int64_t n_vocab) {
  SynthVocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.token_types = {kTokenUnknown, kTokenControl, kTokenControl};
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    v.tokens.emplace_back(name);
    v.token_types.push_back(kTokenByte);
  }
  v.scores.assign(v.tokens.size(), 0.0f);

  const std::string word_start = "\xe2\x96\x81";  // U+2581 '▁', SentencePiece's space
  std::unordered_set<std::string> taken(v.tokens.begin(), v.tokens.end());
  std::vector<std::string> pieces = {word_start};
  for (char c = 'a'; c <= 'z'; ++c) pieces.emplace_back(1, c);
  for (char c = 'A'; c <= 'Z'; ++c) pieces.emplace_back(1, c);
  for (char c = '0'; c <= '9'; ++c) pieces.emplace_back(1, c);
  for (char c : std::string_view(".,!?'")) pieces.emplace_back(1, c);
  taken.insert(pieces.begin(), pieces.end());
  const int64_t remaining = n_vocab - static_cast<int64_t>(v.tokens.size() + pieces.size());
  GrowPieces(word_start, remaining, &taken, &pieces, nullptr);

  for (size_t i = 0; i < pieces.size(); ++i) {
    v.tokens.push_back(std::move(pieces[i]));
    v.token_types.push_back(kTokenNormal);
    v.scores.push_back(-static_cast<float>(i));
  }
  return v;
}

SynthVocab BuildLlama3(int64_t n_vocab) {
  SynthVocab v;
  v.model = "gpt2";
  v.pre = "llama-bpe";
  v.tokens = Gpt2ByteSymbols();
  const std::string word_start = Utf8(0x120);  // 'Ġ', the symbol of byte ' '
  std::unordered_set<std::string> taken(v.tokens.begin(), v.tokens.end());
  constexpr int64_t kSpecial = 256;
  GrowPieces(word_start, n_vocab - kSpecial - 256, &taken, &v.tokens, &v.merges);
  v.token_types.assign(v.tokens.size(), kTokenNormal);

  // Llama 3's special tokens, named as in the real vocabulary.
  const int64_t first = n_vocab - kSpecial;  // 128000 for the real size
  int reserved = 0;
  for (int64_t i = 0; i < kSpecial; ++i) {
    std::string name;
    switch (i) {
      case 0: name = "<|begin_of_text|>"; break;
      case 1: name = "<|end_of_text|>"; break;
      case 6: name = "<|start_header_id|>"; break;
      case 7: name = "<|end_header_id|>"; break;
      case 9: name = "<|eot_id|>"; break;
      default: name = "<|reserved_special_token_" + std::to_string(reserved++) + "|>"; break;
    }
    v.tokens.push_back(std::move(name));
    v.token_types.push_back(kTokenControl);
  }
  v.bos_id = static_cast<int32_t>(first);
  v.eos_id = static_cast<int32_t>(first + 1);
  v.eot_id = static_cast<int32_t>(first + 9);
  v.chat_template =
      "{% set loop_messages = messages %}{% for message in loop_messages %}"
      "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
      "+ message['content'] | trim + '<|eot_id|>' %}"
      "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
      "{{ content }}{% endfor %}"
      "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% "
      "endif %}";
  return v;
}

// Frequent English words and word endings: with them common text tokenizes
// into whole words, as with the real vocabulary, rather than letter by letter.
constexpr std::string_view kCommonWords[] = {
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
    "not", "he", "i", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they",
    "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when",
    "will", "would", "who", "so", "no", "she", "other", "its", "may", "these", "what", "them", "than", "some",
    "him", "time", "into", "only", "do", "could", "new", "about", "two", "then", "first", "also", "any", "like",
    "our", "over", "out", "my", "me", "many", "up", "most", "made", "your", "after", "where", "such", "should",
    "how", "very", "well", "way", "make", "used", "between", "years", "work", "because", "each", "through",
    "just", "people", "day", "good", "world", "life", "know", "year", "see", "get", "water", "long", "down",
    "use", "system", "data", "model", "text", "search", "document", "question", "answer", "query", "memory",
    "note", "file", "name", "house", "cat", "dog", "sun", "sky", "blue", "green", "red", "city", "car",
    "computer", "language", "learning", "machine", "information", "example", "number", "word", "sentence",
    "embedding", "vector", "similar", "meaning", "today", "weather", "food", "book", "music", "school",
};
constexpr std::string_view kCommonEndings[] = {"s", "ed", "ing", "ly", "er", "est", "es", "tion", "ment",
                                               "ness", "able", "al", "ful", "less", "ize", "ity", "ous"};

SynthVocab BuildWordPiece(int64_t n_vocab) {
  SynthVocab v;
  v.model = "bert";
  v.token_type_count = 2;
  const std::string word_start = "\xe2\x96\x81";  // U+2581: the converter's word-start mark
  // Special tokens where bert-base-uncased has them (the same ids as
  // all-MiniLM, BGE, E5, nomic-embed-text): [PAD] 0, [UNK] 100, [CLS] 101,
  // [SEP] 102, [MASK] 103; the ids between are [unusedN].
  v.pad_id = 0;
  v.unk_id = 100;
  v.cls_id = v.bos_id = 101;
  v.sep_id = 102;
  v.mask_id = 103;
  v.tokens.push_back("[PAD]");
  v.token_types.push_back(kTokenControl);
  for (int i = 0; i < 99; ++i) {
    v.tokens.push_back("[unused" + std::to_string(i) + "]");
    v.token_types.push_back(kTokenNormal);
  }
  for (const char* special : {"[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    v.tokens.emplace_back(special);
    v.token_types.push_back(std::string_view(special) == "[UNK]" ? kTokenUnknown : kTokenControl);
  }
  std::unordered_set<std::string> taken(v.tokens.begin(), v.tokens.end());
  auto add = [&](const std::string& piece) {
    if (static_cast<int64_t>(v.tokens.size()) >= n_vocab || !taken.insert(piece).second) return;
    v.tokens.push_back(piece);
    v.token_types.push_back(kTokenNormal);
  };
  for (char c = '!'; c <= '~'; ++c) {
    if (c >= 'A' && c <= 'Z') continue;  // uncased, like the real vocabulary: text is lower-cased first
    add(word_start + c);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) add(std::string(1, c));
  }
  for (std::string_view w : kCommonWords) add(word_start + std::string(w));
  for (std::string_view e : kCommonEndings) add(std::string(e));
  // Fill: every two-letter piece (word start and continuation), then
  // three- and four-letter ones, in a fixed order.
  for (int len = 2; static_cast<int64_t>(v.tokens.size()) < n_vocab && len <= 4; ++len) {
    int64_t combos = 1;
    for (int i = 0; i < len; ++i) combos *= 26;
    for (int64_t k = 0; k < combos && static_cast<int64_t>(v.tokens.size()) < n_vocab; ++k) {
      std::string piece;
      for (int64_t j = k, i = 0; i < len; ++i, j /= 26) piece.insert(piece.begin(), static_cast<char>('a' + j % 26));
      add(word_start + piece);
      add(piece);
    }
  }
  return v;
}

}  // namespace

SynthVocab BuildVocab(VocabKind kind, int64_t n_vocab) {
  switch (kind) {
    case VocabKind::kSentencePiece: return BuildSentencePiece(n_vocab);
    case VocabKind::kLlama3Bpe: return BuildLlama3(n_vocab);
    case VocabKind::kWordPiece: return BuildWordPiece(n_vocab);
  }
  return BuildSentencePiece(n_vocab);
}

void AddVocabMetadata(const SynthVocab& vocab, GgufWriter* writer) {
  if (vocab.model == "bert") {
    // What llama.cpp's BertModel converter writes: the token types count, the
    // phantom-space tokens with their types, and the special ids by role
    // (BERT's tokenizer has no bos/eos; [CLS] text [SEP] comes from them).
    writer->SetString("tokenizer.ggml.model", vocab.model);
    writer->SetUint32("tokenizer.ggml.token_type_count", static_cast<uint32_t>(vocab.token_type_count));
    writer->SetStringArray("tokenizer.ggml.tokens", vocab.tokens);
    writer->SetInt32Array("tokenizer.ggml.token_type", vocab.token_types);
    writer->SetUint32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(vocab.unk_id));
    writer->SetUint32("tokenizer.ggml.seperator_token_id", static_cast<uint32_t>(vocab.sep_id));  // sic
    writer->SetUint32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(vocab.pad_id));
    writer->SetUint32("tokenizer.ggml.cls_token_id", static_cast<uint32_t>(vocab.cls_id));
    writer->SetUint32("tokenizer.ggml.mask_token_id", static_cast<uint32_t>(vocab.mask_id));
    return;
  }
  writer->SetString("tokenizer.ggml.model", vocab.model);
  if (!vocab.pre.empty()) writer->SetString("tokenizer.ggml.pre", vocab.pre);
  writer->SetStringArray("tokenizer.ggml.tokens", vocab.tokens);
  if (!vocab.scores.empty()) writer->SetFloat32Array("tokenizer.ggml.scores", vocab.scores);
  writer->SetInt32Array("tokenizer.ggml.token_type", vocab.token_types);
  if (!vocab.merges.empty()) writer->SetStringArray("tokenizer.ggml.merges", vocab.merges);
  writer->SetUint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(vocab.bos_id));
  writer->SetUint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(vocab.eos_id));
  if (vocab.unk_id >= 0)
    writer->SetUint32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(vocab.unk_id));
  if (vocab.eot_id >= 0)
    writer->SetUint32("tokenizer.ggml.eot_token_id", static_cast<uint32_t>(vocab.eot_id));
  writer->SetBool("tokenizer.ggml.add_bos_token", true);
  writer->SetBool("tokenizer.ggml.add_eos_token", false);
  if (!vocab.chat_template.empty())
    writer->SetString("tokenizer.chat_template", vocab.chat_template);
}

}  // namespace jarvis::synth
