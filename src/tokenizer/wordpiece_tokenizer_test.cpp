// WordPiece ("bert") tokenization on hand-made vocabularies written as GGUF
// files, in both piece spellings ("##" continuations as in vocab.txt, and the
// phantom-space form llama.cpp's converter writes). Expected ids are derived by
// hand from BERT's algorithm (wordpiece_encoder.h).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/wordpiece_encoder.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<int32_t>;

constexpr int32_t kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kMask = 4;
constexpr int32_t kHello = 5, kWorld = 6, kUn = 7, kAff = 8, kAble = 9, kDon = 10, kApos = 11,
                  kT = 12, kZhong = 13, kGuo = 14, kExcl = 15, kComma = 16, kA = 18, kB = 19,
                  kContA = 20;

// The vocabulary in vocab.txt spelling; index = id.
const std::vector<std::string>& HashVocab() {
  static const std::vector<std::string> v = {
      "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world",
      "un",    "##aff", "##able", "don",  "'",      "t",     "\u4E2D" /* 中 */,
      "\u56FD" /* 国 */, "!", ",", "##s", "a", "##b", "##a", "##ff", "the", "cafe"};
  return v;
}

// What convert_hf_to_gguf.py writes: control tokens as they are, "##x" -> "x",
// every other piece "▁" + piece.
std::vector<std::string> Phantom(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (i <= static_cast<size_t>(kMask)) {
      out.push_back(t);
    } else if (t.rfind("##", 0) == 0) {
      out.push_back(t.substr(2));
    } else {
      std::string piece = "\u2581";
      piece += t;
      out.push_back(piece);
    }
  }
  return out;
}

struct Options {
  bool phantom = false;
  bool write_ids = true;  // the *_token_id keys (else found by name)
  int add_sep = -1;       // -1: key absent
  int add_eos = -1;
};

class WordPieceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("jarvis_wordpiece_") + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The file's Tokenizer::FromGguf result.
  Result<std::unique_ptr<Tokenizer>> TryLoad(const std::vector<std::string>& tokens,
                                             const Options& o) {
    GgufWriter w;
    w.SetString("general.architecture", "bert");
    w.SetString("tokenizer.ggml.model", "bert");
    w.SetStringArray("tokenizer.ggml.tokens", o.phantom ? Phantom(tokens) : tokens);
    std::vector<int32_t> types(tokens.size(), 1);
    for (int32_t i = 0; i <= kMask; ++i) types[i] = 3;  // control, as HF's special tokens
    w.SetInt32Array("tokenizer.ggml.token_type", types);
    if (o.write_ids) {
      w.SetUint32("tokenizer.ggml.cls_token_id", kCls);
      w.SetUint32("tokenizer.ggml.seperator_token_id", kSep);
      w.SetUint32("tokenizer.ggml.unknown_token_id", kUnk);
      w.SetUint32("tokenizer.ggml.padding_token_id", kPad);
      w.SetUint32("tokenizer.ggml.mask_token_id", kMask);
    }
    if (o.add_sep >= 0) w.SetBool("tokenizer.ggml.add_sep_token", o.add_sep == 1);
    if (o.add_eos >= 0) w.SetBool("tokenizer.ggml.add_eos_token", o.add_eos == 1);
    const std::string path = (dir_ / (std::to_string(n_files_++) + ".gguf")).string();
    const Status written =
        w.WriteFile(path, [](size_t, const GgufTensorPlan&, std::span<uint8_t>) {
          return Status::Ok();
        });
    EXPECT_TRUE(written.ok()) << written.ToString();
    auto gguf = GgufFile::Open(path);
    if (!gguf.ok()) return gguf.status();
    return Tokenizer::FromGguf(**gguf);
  }
  std::unique_ptr<Tokenizer> Load(const std::vector<std::string>& tokens, const Options& o) {
    auto tok = TryLoad(tokens, o);
    EXPECT_TRUE(tok.ok()) << tok.status().ToString();
    return tok.ok() ? std::move(tok).value() : nullptr;
  }
  std::unique_ptr<Tokenizer> Load(bool phantom = false) {
    Options o;
    o.phantom = phantom;
    return Load(HashVocab(), o);
  }

  static Ids Enc(const Tokenizer& t, std::string_view text, bool add_special = false,
                 bool parse_special = false) {
    Tokenizer::EncodeOptions o;
    o.add_special = add_special;
    o.parse_special = parse_special;
    auto ids = t.Encode(text, o);
    EXPECT_TRUE(ids.ok());
    return ids.ok() ? *ids : Ids{};
  }

  static int32_t Id(const Tokenizer& t, std::string_view text) {
    const auto id = t.FindToken(text);
    EXPECT_TRUE(id.has_value()) << text;
    return id.value_or(-1);
  }

  fs::path dir_;
  int n_files_ = 0;
};

TEST_F(WordPieceTest, VocabularyFacts) {
  for (const bool phantom : {false, true}) {
    const auto t = Load(phantom);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->kind(), VocabKind::kWordPiece);
    EXPECT_EQ(t->bos_id(), kCls);
    EXPECT_EQ(t->sep_id(), kSep);
    EXPECT_EQ(t->unk_id(), kUnk);
    EXPECT_EQ(t->pad_id(), kPad);
    EXPECT_EQ(t->mask_id(), kMask);
    EXPECT_TRUE(t->add_bos());
    EXPECT_TRUE(t->add_sep());
    EXPECT_FALSE(t->add_eos());
    EXPECT_FALSE(t->add_space_prefix());
    EXPECT_TRUE(t->lowercase());  // no upper-case letter in any piece
  }
}

TEST_F(WordPieceTest, SpecialIdsFoundByNameWithoutKeys) {
  Options o;
  o.write_ids = false;
  const auto t = Load(HashVocab(), o);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->bos_id(), kCls);
  EXPECT_EQ(t->sep_id(), kSep);
  EXPECT_EQ(t->unk_id(), kUnk);
  EXPECT_EQ(t->mask_id(), kMask);
  EXPECT_EQ(Enc(*t, "hello", true), (Ids{kCls, kHello, kSep}));
}

TEST_F(WordPieceTest, ClsTextSep) {
  const auto t = Load();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Enc(*t, "hello world", true), (Ids{kCls, kHello, kWorld, kSep}));
  EXPECT_EQ(Enc(*t, "", true), (Ids{kCls, kSep}));
  EXPECT_TRUE(Enc(*t, "").empty());
  // Special-token texts are matched only with parse_special.
  EXPECT_EQ(Enc(*t, "[CLS] hello [SEP]", false, true), (Ids{kCls, kHello, kSep}));
  // Without it "[CLS]" is text: "[", "cls", "]", none of them pieces.
  EXPECT_EQ(Enc(*t, "[CLS]"), (Ids{kUnk, kUnk, kUnk}));
  EXPECT_EQ(Enc(*t, "[MASK]", false, true), (Ids{kMask}));
}

TEST_F(WordPieceTest, AddSepAndAddEosKeys) {
  Options o;
  o.add_sep = 0;
  auto t = Load(HashVocab(), o);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Enc(*t, "hello", true), (Ids{kCls, kHello}));
  o.add_sep = -1;
  o.add_eos = 1;  // a converter's way to say "[SEP] at the end"
  t = Load(HashVocab(), o);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Enc(*t, "hello", true), (Ids{kCls, kHello, kSep}));
}

TEST_F(WordPieceTest, AddSepWithoutSeparatorIsCorruption) {
  std::vector<std::string> tokens = HashVocab();
  tokens[kSep] = "[NOT_SEP]";
  Options o;
  o.write_ids = false;
  auto t = Load(tokens, o);  // no [SEP]: nothing is appended
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->sep_id(), -1);
  EXPECT_FALSE(t->add_sep());
  EXPECT_EQ(Enc(*t, "hello", true), (Ids{kCls, kHello}));
  o.add_sep = 1;
  const auto bad = TryLoad(tokens, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption) << bad.status().ToString();
}

TEST_F(WordPieceTest, LowerCasingAndAccentStripping) {
  const auto t = Load();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Enc(*t, "HELLO World"), (Ids{kHello, kWorld}));
  EXPECT_EQ(Enc(*t, "H\u00E9llo"), (Ids{kHello}));        // Héllo, precomposed é
  EXPECT_EQ(Enc(*t, "He\u0301llo"), (Ids{kHello}));       // e + combining acute
  EXPECT_EQ(Enc(*t, "CAF\u00C9"), (Ids{Id(*t, "cafe")}));  // CAFÉ
}

TEST_F(WordPieceTest, PunctuationSplits) {
  const auto t = Load();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Enc(*t, "don't"), (Ids{kDon, kApos, kT}));
  EXPECT_EQ(Enc(*t, "Hello, world!"), (Ids{kHello, kComma, kWorld, kExcl}));
  EXPECT_EQ(Enc(*t, "hello!!"), (Ids{kHello, kExcl, kExcl}));
  // "$" (ASCII 36) and "¿" (Po) are punctuation too: words of their own.
  EXPECT_EQ(Enc(*t, "$hello\u00BFworld"), (Ids{kUnk, kHello, kUnk, kWorld}));
}

TEST_F(WordPieceTest, WhitespaceAndControlCharacters) {
  const auto t = Load();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Enc(*t, "  hello\t\n world\u00A0hello\u3000world  "),
            (Ids{kHello, kWorld, kHello, kWorld}));
  // Control (Cc), format (Cf: zero-width space), NUL and U+FFFD vanish.
  EXPECT_EQ(Enc(*t, std::string("hel\x01l\0o", 7)), (Ids{kHello}));
  EXPECT_EQ(Enc(*t, "hel\u200Blo\uFFFD"), (Ids{kHello}));
}

TEST_F(WordPieceTest, UnknownWords) {
  const auto t = Load();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Enc(*t, "xyz"), (Ids{kUnk}));
  // "hello" matches, but nothing continues it with "x": the whole word is [UNK].
  EXPECT_EQ(Enc(*t, "hellox world"), (Ids{kUnk, kWorld}));
  // 100 characters is still a word; 101 is [UNK].
  Ids hundred{kA};
  hundred.insert(hundred.end(), 99, kB);
  std::string word = "a";
  word.append(99, 'b');
  EXPECT_EQ(Enc(*t, word), hundred);
  word.push_back('b');
  EXPECT_EQ(Enc(*t, word), (Ids{kUnk}));
}

TEST_F(WordPieceTest, LongestMatchFirstWithContinuations) {
  const auto t = Load();
  ASSERT_NE(t, nullptr);
  // "##aff" beats the shorter "##a" then "##ff".
  EXPECT_EQ(Enc(*t, "unaffable"), (Ids{kUn, kAff, kAble}));
  EXPECT_EQ(Enc(*t, "aa"), (Ids{kA, kContA}));
  EXPECT_EQ(Enc(*t, "ab"), (Ids{kA, kB}));
  // A word-initial piece is not a continuation: "hellohello" has no "##hello".
  EXPECT_EQ(Enc(*t, "hellohello"), (Ids{kUnk}));
}

TEST_F(WordPieceTest, ChineseCharactersAreWordsOfTheirOwn) {
  const auto t = Load();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Enc(*t, "\u4E2D\u56FD"), (Ids{kZhong, kGuo}));
  EXPECT_EQ(Enc(*t, "hello\u4E2Dworld"), (Ids{kHello, kZhong, kWorld}));
  // An ideograph outside the vocabulary is one [UNK], not its whole run.
  EXPECT_EQ(Enc(*t, "\u4E2D\u5FC3\u56FD"), (Ids{kZhong, kUnk, kGuo}));
  const std::vector<std::string> words = WordPieceBasicSplit("a\u4E2D\U00020000b", true);
  EXPECT_EQ(words, (std::vector<std::string>{"a", "\u4E2D", "\U00020000", "b"}));
}

TEST_F(WordPieceTest, PhantomAndHashFormsGiveTheSameIds) {
  const auto hash = Load(false);
  const auto phantom = Load(true);
  ASSERT_NE(hash, nullptr);
  ASSERT_NE(phantom, nullptr);
  EXPECT_EQ(phantom->TokenText(kAff), "aff");
  EXPECT_EQ(phantom->TokenText(kUn), "\u2581un");
  for (const char* text :
       {"unaffable", "Hello, world!", "don't", "\u4E2D\u56FD hello", "hellox", "aa ab",
        "[CLS] the cafe", "CAF\u00C9 unaff"}) {
    EXPECT_EQ(Enc(*hash, text, true), Enc(*phantom, text, true)) << text;
    EXPECT_EQ(Enc(*hash, text, false, true), Enc(*phantom, text, false, true)) << text;
  }
  EXPECT_EQ(Enc(*phantom, "unaffable"), (Ids{kUn, kAff, kAble}));
}

TEST_F(WordPieceTest, CasedVocabularyKeepsCase) {
  std::vector<std::string> tokens = HashVocab();
  tokens.push_back("Hello");
  Options o;
  const auto t = Load(tokens, o);
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->lowercase());
  const int32_t upper = static_cast<int32_t>(tokens.size()) - 1;
  EXPECT_EQ(Enc(*t, "Hello hello HELLO"), (Ids{upper, kHello, kUnk}));
  // No accent stripping either: "héllo" is not "hello".
  EXPECT_EQ(Enc(*t, "h\u00E9llo"), (Ids{kUnk}));
}

TEST_F(WordPieceTest, DecodeJoinsContinuations) {
  for (const bool phantom : {false, true}) {
    const auto t = Load(phantom);
    ASSERT_NE(t, nullptr);
    Tokenizer::DecodeOptions strip;
    strip.strip_space_prefix = true;
    const Ids ids = Enc(*t, "hello world unaffable", true);
    EXPECT_EQ(ids, (Ids{kCls, kHello, kWorld, kUn, kAff, kAble, kSep}));
    EXPECT_EQ(t->Decode(ids, strip), "hello world unaffable");
    EXPECT_EQ(t->Decode(ids), " hello world unaffable");
    Tokenizer::DecodeOptions special;
    special.render_special = true;
    EXPECT_EQ(t->Decode(ids, special), "[CLS] hello world unaffable[SEP]");
    EXPECT_EQ(t->Piece(kAff), "aff");
    EXPECT_EQ(t->Piece(kUn), " un");
    // Punctuation comes back as its own word.
    EXPECT_EQ(t->Decode(Enc(*t, "don't"), strip), "don ' t");
  }
}

// Random bytes (invalid UTF-8 included) and pieces of real text: never a
// failure, every id in range, and it always terminates.
TEST_F(WordPieceTest, RandomBytesNeverFail) {
  for (const bool phantom : {false, true}) {
    const auto t = Load(phantom);
    ASSERT_NE(t, nullptr);
    std::mt19937 rng(phantom ? 7 : 8);
    const std::vector<std::string> parts = {
        "hello", "##",   "\u2581", "un",     "aff",   " ",          "'",           "\u4E2D",
        "\xC3",  "\xFF", "[SEP]",  "\u0301", "\xE2\x96", "\xED\xA0\x80", std::string(1, '\0'),
        "\xEF\xBF\xBD"};
    for (int i = 0; i < 2000; ++i) {
      std::string s;
      const int n = static_cast<int>(rng() % 40);
      for (int k = 0; k < n; ++k) {
        if (rng() % 2 == 0) {
          s.push_back(static_cast<char>(rng() & 0xFF));
        } else {
          s += parts[rng() % parts.size()];
        }
      }
      const auto ids = t->Encode(s, Tokenizer::EncodeOptions{true, (i % 2) == 0});
      ASSERT_TRUE(ids.ok()) << i;
      for (const int32_t id : *ids) ASSERT_TRUE(id >= 0 && id < t->vocab_size()) << i;
      (void)t->Decode(*ids);
    }
    // One enormous word and many words finish quickly.
    EXPECT_EQ(Enc(*t, std::string(1 << 20, 'a')), (Ids{kUnk}));
    std::string many;
    for (int i = 0; i < 20000; ++i) many += "unaffable ";
    EXPECT_EQ(Enc(*t, many).size(), 60000u);
  }
}

}  // namespace
}  // namespace jarvis
