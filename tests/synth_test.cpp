// End-to-end: `jarvis synth` and `jarvis quantize`, run as the built binary,
// with the files they write read back through GgufFile, the quantizers and
// the tokenizer.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "quant/quantize.h"
#include "support/run_jarvis.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

using test::ShellQuote;

std::string ReadAll(const fs::path& path) { return test::ReadFile(path); }

class SynthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("jarvis_synth_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  test::JarvisRun Jarvis(const std::string& args) { return test::RunJarvis(args); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Files left in the test directory besides stderr.txt.
  std::vector<std::string> StrayFiles(const std::set<std::string>& expected) const {
    std::vector<std::string> stray;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      if (name != "stderr.txt" && expected.count(name) == 0) stray.push_back(name);
    }
    return stray;
  }

  fs::path dir_;
};

std::unique_ptr<GgufFile> OpenOrDie(const std::string& path) {
  auto f = GgufFile::Open(path);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.status().ToString());
  return f.ok() ? std::move(f).value() : nullptr;
}

// All values of a tensor, decoded to F32.
std::vector<float> Decode(const GgufTensorInfo& t) {
  std::vector<float> v(t.n_elements);
  const Status s = DequantizeRow(t.type, t.data, v.data(), static_cast<int64_t>(t.n_elements));
  EXPECT_TRUE(s.ok()) << t.name << ": " << s.ToString();
  return v;
}

void MeanAndStd(const std::vector<float>& v, double* mean, double* stddev) {
  double sum = 0.0;
  double sum2 = 0.0;
  for (float x : v) {
    sum += x;
    sum2 += static_cast<double>(x) * x;
  }
  *mean = sum / static_cast<double>(v.size());
  *stddev = std::sqrt(sum2 / static_cast<double>(v.size()) - *mean * *mean);
}

// llama.cpp's LLAMA_FTYPE numbers (llama.h), written out independently.
const std::map<std::string, uint64_t> kFileTypes = {
    {"f32", 0},  {"f16", 1},   {"q4_0", 2},  {"q4_1", 3},  {"q8_0", 7},  {"q5_0", 8},
    {"q5_1", 9}, {"q4_k", 14}, {"q5_k", 16}, {"q6_k", 18}, {"bf16", 32}, {"q4_k_m", 15},
    {"q3_k", 11}, {"q3_k_s", 11}, {"q3_k_m", 12}, {"q2_k", 10}, {"iq4_nl", 25}, {"iq4_xs", 30},
};

// The type llama.cpp's mix of `type_name` gives tensor `name` of the tiny
// preset (2 layers, 4 heads over 2 KV heads, untied output): the mixes'
// rules that apply at this size (see DryRunPlansFollowTheLowBitMixes for the
// layer-dependent ones at 32 layers).
GgmlType TinyExpectedType(const std::string& type_name, const std::string& name) {
  if (name.find("_norm.weight") != std::string::npos) return GgmlType::kF32;
  const bool mix = type_name == "q4_k_m" || type_name == "q3_k_m" || type_name == "q3_k_s" ||
                   type_name == "q2_k" || type_name == "iq4_nl" || type_name == "iq4_xs";
  if (mix && name == "output.weight") return GgmlType::kQ6_K;
  auto is = [&](const char* suffix) { return name.find(suffix) != std::string::npos; };
  if (type_name == "q4_k_m") {
    // Layer 1 is in the last eighth, layer 0 is not.
    if (name == "blk.1.attn_v.weight" || name == "blk.1.ffn_down.weight") return GgmlType::kQ6_K;
    return GgmlType::kQ4_K;
  }
  if (type_name == "q3_k_m") {
    if (is(".attn_v.")) return GgmlType::kQ5_K;  // layers < 2
    if (is(".ffn_down.") || is(".attn_output.")) return GgmlType::kQ4_K;  // 2/16 = 0 layers of Q5_K
    return GgmlType::kQ3_K;
  }
  if (type_name == "q3_k_s") return GgmlType::kQ3_K;
  if (type_name == "q2_k") {
    // attn_v gets Q4_K only from 4 query heads per KV head on.
    if (is(".attn_v.") || is(".ffn_down.") || is(".attn_output.")) return GgmlType::kQ3_K;
    return GgmlType::kQ2_K;
  }
  return *TypeFromName(type_name);  // pure, or iq4_*: no rule applies at 2 layers and 2 heads per KV head
}

// The tiny preset: 256-wide, 2 layers, 4 heads / 2 KV heads, FFN 256, vocab 512.
TEST_F(SynthTest, TinyEveryTypeLoadsWithExpectedTypesAndValues) {
  for (const auto& [type_name, file_type] : kFileTypes) {
    SCOPED_TRACE(type_name);
    const std::string out = Path("tiny-" + type_name + ".gguf");
    const auto r = Jarvis("synth --preset tiny --type " + type_name + " --out " + ShellQuote(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");  // no progress bar when stderr is not a terminal
    EXPECT_LT(fs::file_size(out), 5u << 20);

    auto f = OpenOrDie(out);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(*f->GetString("general.architecture"), "llama");
    EXPECT_EQ(*f->GetUint("general.file_type"), file_type);
    EXPECT_EQ(*f->GetUint("llama.embedding_length"), 256u);
    EXPECT_EQ(*f->GetUint("llama.block_count"), 2u);
    EXPECT_EQ(*f->GetUint("llama.feed_forward_length"), 256u);
    EXPECT_EQ(*f->GetUint("llama.attention.head_count"), 4u);
    EXPECT_EQ(*f->GetUint("llama.attention.head_count_kv"), 2u);
    EXPECT_EQ(*f->GetUint("llama.rope.dimension_count"), 64u);
    EXPECT_EQ(*f->GetUint("llama.vocab_size"), 512u);
    EXPECT_EQ(*f->GetUint("llama.context_length"), 512u);
    EXPECT_NEAR(*f->GetFloat("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-9);
    EXPECT_EQ(*f->GetFloat("llama.rope.freq_base"), 10000.0);
    ASSERT_EQ(f->tensors().size(), 1u + 2u * 9u + 2u);

    for (const auto& t : f->tensors()) {
      const std::string name(t.name);
      SCOPED_TRACE(name);
      const bool is_norm = name.find("_norm.weight") != std::string::npos;
      const GgmlType expected = TinyExpectedType(type_name, name);
      EXPECT_EQ(TypeName(t.type), std::string(TypeName(expected)));
      const std::map<std::string, std::vector<int64_t>> known_dims = {
          {"blk.0.attn_k.weight", {256, 128}},  // [dim, n_kv_heads * head_dim]
          {"blk.0.ffn_down.weight", {256, 256}},
          {"token_embd.weight", {256, 512}},
      };
      if (known_dims.count(name) != 0) {
        EXPECT_EQ(t.dims, known_dims.at(name));
      }

      double mean = 0.0;
      double stddev = 0.0;
      MeanAndStd(Decode(t), &mean, &stddev);
      EXPECT_NEAR(mean, is_norm ? 1.0 : 0.0, 0.01);
      EXPECT_NEAR(stddev, 0.02, 0.003);
    }
  }
}

TEST_F(SynthTest, SameSeedSameBytesDifferentSeedDifferentBytes) {
  const std::string a = Path("a.gguf");
  const std::string b = Path("b.gguf");
  const std::string c = Path("c.gguf");
  ASSERT_EQ(Jarvis("synth --preset tiny --type q4_k_m --seed 7 --threads 1 --out " + a).exit_code,
            0);
  ASSERT_EQ(Jarvis("synth --preset tiny --type q4_k_m --seed 7 --threads 2 --out " + b).exit_code,
            0);
  ASSERT_EQ(Jarvis("synth --preset tiny --type q4_k_m --seed 8 --out " + c).exit_code, 0);
  EXPECT_EQ(ReadAll(a), ReadAll(b));  // and independent of the thread count
  const std::string bytes_c = ReadAll(c);
  EXPECT_NE(ReadAll(a), bytes_c);
  EXPECT_EQ(fs::file_size(a), bytes_c.size());  // only the values differ
}

// --layers: the preset with fewer blocks, the same vocabulary and the same
// values for the tensors both have (a draft model for --draft-model).
TEST_F(SynthTest, FewerLayersKeepTheVocabularyAndTheSharedTensors) {
  const std::string full = Path("full.gguf");
  const std::string draft = Path("draft.gguf");
  ASSERT_EQ(Jarvis("synth --preset tiny --type f32 --out " + full).exit_code, 0);
  ASSERT_EQ(Jarvis("synth --preset tiny --type f32 --layers 1 --out " + draft).exit_code, 0);
  auto f = GgufFile::Open(full);
  auto d = GgufFile::Open(draft);
  ASSERT_TRUE(f.ok() && d.ok());
  EXPECT_EQ(*(*f)->GetUint("llama.block_count"), 2u);
  EXPECT_EQ(*(*d)->GetUint("llama.block_count"), 1u);
  EXPECT_EQ((*d)->FindTensor("blk.1.attn_q.weight"), nullptr);
  for (const char* name : {"token_embd.weight", "blk.0.attn_q.weight", "output.weight"}) {
    const GgufTensorInfo* a = (*f)->FindTensor(name);
    const GgufTensorInfo* b = (*d)->FindTensor(name);
    ASSERT_TRUE(a != nullptr && b != nullptr) << name;
    ASSERT_EQ(a->n_bytes, b->n_bytes) << name;
    EXPECT_TRUE(std::equal(a->data, a->data + a->n_bytes, b->data)) << name;
  }
  auto tf = Tokenizer::FromGguf(**f);
  auto td = Tokenizer::FromGguf(**d);
  ASSERT_TRUE(tf.ok() && td.ok());
  ASSERT_EQ((*tf)->vocab_size(), (*td)->vocab_size());
  for (int32_t id = 0; id < (*tf)->vocab_size(); ++id) ASSERT_EQ((*tf)->TokenText(id), (*td)->TokenText(id)) << id;
  EXPECT_EQ(Jarvis("synth --preset tiny --type f32 --layers -1 --out " + draft).exit_code, 2);
}

TEST_F(SynthTest, SentencePieceVocabIsComplete) {
  const std::string out = Path("tiny.gguf");
  ASSERT_EQ(Jarvis("synth --preset tiny --type f16 --out " + out).exit_code, 0);
  auto f = OpenOrDie(out);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(*f->GetString("tokenizer.ggml.model"), "llama");
  const GgufArray* tokens = f->GetArray("tokenizer.ggml.tokens");
  const GgufArray* types = f->GetArray("tokenizer.ggml.token_type");
  const GgufArray* scores = f->GetArray("tokenizer.ggml.scores");
  ASSERT_NE(tokens, nullptr);
  ASSERT_NE(types, nullptr);
  ASSERT_NE(scores, nullptr);
  ASSERT_EQ(tokens->items.size(), 512u);
  ASSERT_EQ(types->items.size(), 512u);
  ASSERT_EQ(scores->items.size(), 512u);
  EXPECT_EQ(*tokens->items[0].as_string(), "<unk>");
  EXPECT_EQ(*tokens->items[1].as_string(), "<s>");
  EXPECT_EQ(*tokens->items[2].as_string(), "</s>");
  EXPECT_EQ(*f->GetUint("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(*f->GetUint("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_EQ(*f->GetUint("tokenizer.ggml.unknown_token_id"), 0u);
  EXPECT_TRUE(*f->GetBool("tokenizer.ggml.add_bos_token"));
  std::set<std::string> unique;
  int word_start_pieces = 0;
  for (size_t i = 0; i < 512; ++i) {
    const std::string tok(*tokens->items[i].as_string());
    unique.insert(tok);
    if (i >= 3 && i < 259) {
      char expected[8];
      std::snprintf(expected, sizeof(expected), "<0x%02X>", static_cast<int>(i - 3));
      EXPECT_EQ(tok, expected);
      EXPECT_EQ(*types->items[i].as_int(), 6);  // byte token
    } else if (i >= 259) {
      EXPECT_EQ(*types->items[i].as_int(), 1);
      if (tok.rfind("\xe2\x96\x81", 0) == 0) ++word_start_pieces;
    }
  }
  EXPECT_EQ(unique.size(), 512u);
  EXPECT_GT(word_start_pieces, 30);

  // The project's tokenizer (llama.cpp-compatible) loads it and round-trips text.
  auto tok = Tokenizer::FromGguf(*f);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::string text = "Once upon a time, a tiny model said: 42!";
  auto ids = (*tok)->Encode(text);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ((*ids)[0], 1);  // BOS
  EXPECT_EQ((*tok)->Decode(*ids, {.render_special = false, .strip_space_prefix = true}), text);
}

// GPT-2's byte-to-unicode table, in GPT-2's order, written out from its
// definition: printable Latin-1 bytes map to themselves, the rest to 256 + n.
std::vector<std::string> Gpt2ByteOrder() {
  auto utf8 = [](uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xc0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    }
    return s;
  };
  std::vector<int> bs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xa1; b <= 0xac; ++b) bs.push_back(b);
  for (int b = 0xae; b <= 0xff; ++b) bs.push_back(b);
  std::vector<std::string> out;
  for (int b : bs) out.push_back(utf8(static_cast<uint32_t>(b)));
  uint32_t n = 0;
  for (int b = 0; b < 256; ++b) {
    if (std::find(bs.begin(), bs.end(), b) == bs.end()) out.push_back(utf8(256 + n++));
  }
  return out;
}

TEST_F(SynthTest, Llama3VocabIsConsistent) {
  const std::string out = Path("llama3-vocab.gguf");
  const auto r = Jarvis("synth --preset llama3-1b --type q4_k_m --vocab-only --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto f = OpenOrDie(out);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(*f->GetString("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(*f->GetString("tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(*f->GetUint("tokenizer.ggml.bos_token_id"), 128000u);
  EXPECT_EQ(*f->GetUint("tokenizer.ggml.eos_token_id"), 128001u);
  EXPECT_EQ(*f->GetUint("tokenizer.ggml.eot_token_id"), 128009u);
  EXPECT_NE(f->GetString("tokenizer.chat_template")->find("<|start_header_id|>"),
            std::string::npos);

  const GgufArray* tokens = f->GetArray("tokenizer.ggml.tokens");
  const GgufArray* types = f->GetArray("tokenizer.ggml.token_type");
  const GgufArray* merges = f->GetArray("tokenizer.ggml.merges");
  ASSERT_NE(tokens, nullptr);
  ASSERT_NE(types, nullptr);
  ASSERT_NE(merges, nullptr);
  ASSERT_EQ(tokens->items.size(), 128256u);
  std::vector<std::string> text(tokens->items.size());
  std::map<std::string, size_t> id_of;
  for (size_t i = 0; i < text.size(); ++i) {
    text[i] = std::string(*tokens->items[i].as_string());
    ASSERT_TRUE(id_of.emplace(text[i], i).second) << "duplicate token " << text[i];
  }
  const auto bytes = Gpt2ByteOrder();
  for (size_t i = 0; i < 256; ++i) EXPECT_EQ(text[i], bytes[i]) << i;

  // Token 256 + k is made by merge k from two tokens that exist before it.
  ASSERT_EQ(merges->items.size(), 128000u - 256u);
  for (size_t k = 0; k < merges->items.size(); ++k) {
    const std::string m(*merges->items[k].as_string());
    const size_t space = m.find(' ');
    ASSERT_NE(space, std::string::npos) << m;
    const std::string left = m.substr(0, space);
    const std::string right = m.substr(space + 1);
    ASSERT_TRUE(id_of.count(left) && id_of.count(right)) << m;
    ASSERT_LT(id_of[left], 256 + k) << m;
    ASSERT_LT(id_of[right], 256 + k) << m;
    ASSERT_EQ(text[256 + k], left + right) << k;
  }

  EXPECT_EQ(text[128000], "<|begin_of_text|>");
  EXPECT_EQ(text[128001], "<|end_of_text|>");
  EXPECT_EQ(text[128002], "<|reserved_special_token_0|>");
  EXPECT_EQ(text[128006], "<|start_header_id|>");
  EXPECT_EQ(text[128007], "<|end_header_id|>");
  EXPECT_EQ(text[128008], "<|reserved_special_token_4|>");
  EXPECT_EQ(text[128009], "<|eot_id|>");
  EXPECT_EQ(text[128255], "<|reserved_special_token_250|>");
  for (size_t i = 0; i < text.size(); ++i) {
    EXPECT_EQ(*types->items[i].as_int(), i >= 128000 ? 3 : 1) << i;
  }

  auto tok = Tokenizer::FromGguf(*f);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::string sample = "The quick brown fox, 1234 times.\nline two";
  auto ids = (*tok)->Encode(sample);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ((*ids)[0], 128000);
  EXPECT_LT(ids->size(), sample.size());  // some merges apply
  EXPECT_EQ((*tok)->Decode(*ids), sample);
}

TEST_F(SynthTest, DryRunPlansFollowTheQ4KMRecipe) {
  // llama.cpp's use_more_bits(i, n): i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2.
  // For 32 layers: 0-3, 28-31, and 6, 9, ..., 27.
  const std::set<int> more_bits_32 = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
  // For 16 layers: 0-1, 14-15, and 4, 7, 10, 13.
  const std::set<int> more_bits_16 = {0, 1, 4, 7, 10, 13, 14, 15};

  struct Case {
    std::string preset;
    int layers;
    const std::set<int>* more_bits;
    bool tied;
  };
  for (const Case& c :
       {Case{"llama3-8b", 32, &more_bits_32, false}, Case{"llama3-1b", 16, &more_bits_16, true}}) {
    SCOPED_TRACE(c.preset);
    const auto r = Jarvis("synth --preset " + c.preset + " --type q4_k_m --dry-run");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> type_of;
    std::map<std::string, std::string> dims_of;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("total", 0) == 0) continue;
      std::istringstream fields(line);
      std::string name, type;
      fields >> name;
      const size_t open = line.find('[');
      const size_t close = line.find(']');
      ASSERT_NE(open, std::string::npos) << line;
      dims_of[name] = line.substr(open, close - open + 1);
      type = line.substr(line.find_last_of(' ') + 1);
      type_of[name] = type;
    }
    ASSERT_EQ(type_of.size(), 1u + 9u * c.layers + (c.tied ? 1u : 2u));
    for (int l = 0; l < c.layers; ++l) {
      const std::string blk = "blk." + std::to_string(l) + ".";
      const std::string sensitive = c.more_bits->count(l) ? "q6_k" : "q4_k";
      EXPECT_EQ(type_of[blk + "attn_v.weight"], sensitive) << l;
      EXPECT_EQ(type_of[blk + "ffn_down.weight"], sensitive) << l;
      EXPECT_EQ(type_of[blk + "attn_q.weight"], "q4_k") << l;
      EXPECT_EQ(type_of[blk + "attn_k.weight"], "q4_k") << l;
      EXPECT_EQ(type_of[blk + "ffn_up.weight"], "q4_k") << l;
      EXPECT_EQ(type_of[blk + "attn_norm.weight"], "f32") << l;
    }
    EXPECT_EQ(type_of.count("output.weight"), c.tied ? 0u : 1u);
    // The output matrix gets Q6_K; with tied embeddings that is token_embd.
    EXPECT_EQ(type_of["token_embd.weight"], c.tied ? "q6_k" : "q4_k");
    if (!c.tied) {
      EXPECT_EQ(type_of["output.weight"], "q6_k");
    }
    const bool big = c.preset == "llama3-8b";
    EXPECT_EQ(dims_of["blk.0.attn_k.weight"], big ? "[4096, 1024]" : "[2048, 512]");
    EXPECT_EQ(dims_of["blk.0.ffn_down.weight"], big ? "[14336, 4096]" : "[8192, 2048]");
    EXPECT_EQ(dims_of["token_embd.weight"], big ? "[4096, 128256]" : "[2048, 128256]");
  }

  const auto tl = Jarvis("synth --preset tinyllama-1.1b --type q8_0 --dry-run");
  ASSERT_EQ(tl.exit_code, 0);
  EXPECT_NE(tl.out.find("blk.21.ffn_down.weight"), std::string::npos);
  EXPECT_EQ(tl.out.find("blk.22."), std::string::npos);
  EXPECT_NE(tl.out.find("[5632, 2048]"), std::string::npos);
  EXPECT_NE(tl.out.find("[2048, 256]"), std::string::npos);  // 4 KV heads of 64
}

TEST_F(SynthTest, BadPresetOrTypeIsAUsageError) {
  const std::string out = Path("x.gguf");
  auto r = Jarvis("synth --preset nope --type q4_0 --out " + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("tiny, tinyllama-1.1b, llama3-1b, llama3-8b"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = Jarvis("synth --preset tiny --type iq2_xxs --out " + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("q4_k_m"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(StrayFiles({}).empty());
}

TEST_F(SynthTest, UnwritableOutputFailsWithoutLeavingFiles) {
  const std::string out = Path("no-such-dir/x.gguf");
  auto r = Jarvis("synth --preset tiny --type q8_0 --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no-such-dir"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(StrayFiles({}).empty());
}

// Issue 17 fault test: the disk fills up while writing. RLIMIT_FSIZE (what
// `ulimit -f` sets, inherited by the child) makes write() fail with EFBIG
// past 256 KiB, as ENOSPC would on a full disk, without needing a mount.
TEST_F(SynthTest, FullDiskFailsWithAClearErrorAndNoPartialFile) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 256 << 10;
  const std::string synth_out = Path("synth.gguf");
  const std::string quant_out = Path("quant.gguf");
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  auto synth = Jarvis("synth --preset tiny --type f32 --out " + ShellQuote(synth_out));
  auto quant = Jarvis("quantize " + ShellQuote(test::StoriesModelPath()) + " " + ShellQuote(quant_out) + " f32");
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  for (const auto* r : {&synth, &quant}) {
    EXPECT_EQ(r->exit_code, 1) << r->err;  // not killed by SIGXFSZ
    EXPECT_NE(r->err.find("File too large"), std::string::npos) << r->err;
  }
  EXPECT_FALSE(fs::exists(synth_out));
  EXPECT_FALSE(fs::exists(quant_out));
  EXPECT_TRUE(StrayFiles({}).empty());
}

TEST_F(SynthTest, QuantizeStoriesKeepsMetadataAndFallsBackPerTensor) {
  const std::string in = test::StoriesModelPath();
  auto src = OpenOrDie(in);
  ASSERT_NE(src, nullptr);
  // stories260K: rows of 64 (fits 32-blocks, not 256) and ffn_down rows of 172 (fits neither).
  struct Case {
    std::string type;
    std::string matrix_type;  // for 64-wide rows
  };
  for (const Case& c : {Case{"q8_0", "q8_0"}, Case{"q4_0", "q4_0"}, Case{"q4_k", "q5_0"},
                        Case{"q6_k", "q8_0"}, Case{"f16", "f16"}}) {
    SCOPED_TRACE(c.type);
    const std::string out = Path("stories-" + c.type + ".gguf");
    const auto r = Jarvis("quantize " + ShellQuote(in) + " " + out + " " + c.type);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (c.type != "f16") {
      EXPECT_NE(r.err.find("blk.0.ffn_down.weight: row length 172"), std::string::npos) << r.err;
    }
    auto f = OpenOrDie(out);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(*f->GetUint("general.file_type"), kFileTypes.at(c.type));
    // Every source key is still there with the same value.
    for (const auto& kv : src->metadata()) {
      if (kv.key == "general.file_type") continue;
      const GgufValue* v = f->Find(kv.key);
      ASSERT_NE(v, nullptr) << kv.key;
      EXPECT_EQ(v->ToDisplayString(1000), kv.value.ToDisplayString(1000)) << kv.key;
    }
    const GgufArray* a = src->GetArray("tokenizer.ggml.tokens");
    const GgufArray* b = f->GetArray("tokenizer.ggml.tokens");
    ASSERT_TRUE(a != nullptr && b != nullptr);
    ASSERT_EQ(a->items.size(), b->items.size());
    for (size_t i = 0; i < a->items.size(); ++i)
      EXPECT_EQ(*a->items[i].as_string(), *b->items[i].as_string());

    ASSERT_EQ(f->tensors().size(), src->tensors().size());
    for (size_t i = 0; i < f->tensors().size(); ++i) {
      const auto& t = f->tensors()[i];
      const auto& s = src->tensors()[i];
      ASSERT_EQ(t.name, s.name);
      ASSERT_EQ(t.dims, s.dims);
      const std::string name(t.name);
      std::string expected = c.matrix_type;
      if (t.dims.size() == 1) {
        expected = "f32";
      } else if (t.dims[0] == 172) {
        expected = "f16";
      }
      EXPECT_EQ(std::string(TypeName(t.type)), expected) << name;
      // Values stay close to the source (relative RMS error per format).
      const auto x = Decode(s);
      const auto y = Decode(t);
      double err = 0.0, ref = 0.0;
      for (size_t j = 0; j < x.size(); ++j) {
        err += (x[j] - y[j]) * static_cast<double>(x[j] - y[j]);
        ref += x[j] * static_cast<double>(x[j]);
      }
      EXPECT_LT(std::sqrt(err / ref), expected == "q4_0"   ? 0.15
                                      : expected == "q5_0" ? 0.08
                                                           : 0.01)
          << name;
    }
  }
}

TEST_F(SynthTest, DryRunPlansFollowTheLowBitMixes) {
  // llama.cpp's llama_tensor_get_type for a dense llama model without an
  // importance matrix, here llama3-8b: 32 layers, 32 heads over 8 KV heads
  // (n_gqa 4), untied output.
  const int n = 32;
  // The plan of `synth --dry-run` as tensor name -> type name.
  auto planned_types = [&](const std::string& type) {
    std::map<std::string, std::string> type_of;
    const auto r = Jarvis("synth --preset llama3-8b --type " + type + " --dry-run");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("total", 0) == 0) continue;
      std::istringstream fields(line);
      std::string name;
      fields >> name;
      type_of[name] = line.substr(line.find_last_of(' ') + 1);
    }
    return type_of;
  };
  for (const std::string type : {"q3_k_m", "q3_k_s", "q2_k", "iq4_xs", "iq4_nl"}) {
    SCOPED_TRACE(type);
    const auto t = planned_types(type);
    ASSERT_EQ(t.size(), 2u + 9u * n + 1u);
    EXPECT_EQ(t.at("output.weight"), "q6_k");
    const std::string base = type == "q3_k_m" || type == "q3_k_s" ? "q3_k" : type;
    EXPECT_EQ(t.at("token_embd.weight"), base);
    for (int l = 0; l < n; ++l) {
      SCOPED_TRACE(l);
      const std::string blk = "blk." + std::to_string(l) + ".";
      std::string v = base, down = base, out = base;
      if (type == "q3_k_m") {
        v = l < 2 ? "q5_k" : "q4_k";          // the first two attn_v
        down = l < n / 16 ? "q5_k" : "q4_k";  // the first sixteenth of ffn_down
        out = "q4_k";
      } else if (type == "q2_k") {
        v = "q4_k";  // n_gqa >= 4
        down = out = "q3_k";
      } else if (type == "iq4_xs" || type == "iq4_nl") {
        v = "q5_k";                           // n_gqa >= 4
        down = l < n / 8 ? "q5_k" : base;     // the first eighth of ffn_down
      }
      EXPECT_EQ(t.at(blk + "attn_v.weight"), v);
      EXPECT_EQ(t.at(blk + "ffn_down.weight"), down);
      EXPECT_EQ(t.at(blk + "attn_output.weight"), out);
      EXPECT_EQ(t.at(blk + "attn_q.weight"), base);
      EXPECT_EQ(t.at(blk + "attn_k.weight"), base);
      EXPECT_EQ(t.at(blk + "ffn_gate.weight"), base);
      EXPECT_EQ(t.at(blk + "ffn_up.weight"), base);
      EXPECT_EQ(t.at(blk + "attn_norm.weight"), "f32");
    }
  }
}

TEST_F(SynthTest, QuantizeOfF32SynthEqualsDirectSynth) {
  // synth writes F32 values quantized once; quantize decodes the F32 file
  // (exactly) and quantizes the same values with the same recipe.
  const std::string f32 = Path("f32.gguf");
  const std::string direct = Path("direct.gguf");
  const std::string requant = Path("requant.gguf");
  ASSERT_EQ(Jarvis("synth --preset tiny --type f32 --out " + f32).exit_code, 0);
  ASSERT_EQ(Jarvis("synth --preset tiny --type q4_k_m --out " + direct).exit_code, 0);
  const auto r = Jarvis("quantize " + f32 + " " + requant + " q4_k_m");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(ReadAll(direct), ReadAll(requant));
}

TEST_F(SynthTest, QuantizeErrors) {
  const std::string out = Path("out.gguf");
  auto r = Jarvis("quantize " + ShellQuote(test::StoriesModelPath()) + " " + out + " iq2_xxs");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("q4_k_m"), std::string::npos) << r.err;
  r = Jarvis("quantize " + Path("missing.gguf") + " " + out + " q8_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
  r = Jarvis("quantize " + ShellQuote(test::StoriesModelPath()) + " " + Path("nodir/out.gguf") +
             " q8_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(StrayFiles({}).empty());
}

TEST_F(SynthTest, QuantizeNamesATensorItCannotDecode) {
  // A model with one IQ2_XXS matrix (a type jarvis cannot decode).
  const std::string in = Path("iq2.gguf");
  GgufWriter w;
  w.SetString("general.architecture", "llama");
  w.SetUint32("llama.block_count", 1);
  ASSERT_TRUE(w.AddTensor("blk.0.attn_norm.weight", {256}, GgmlType::kF32).ok());
  ASSERT_TRUE(w.AddTensor("blk.0.attn_q.weight", {256, 2}, GgmlType::kIQ2_XXS).ok());
  ASSERT_TRUE(w.WriteFile(in, [](size_t, const GgufTensorPlan&, std::span<uint8_t>) {
                 return Status::Ok();
               }).ok());
  const std::string out = Path("out.gguf");
  const auto r = Jarvis("quantize " + in + " " + out + " q8_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("blk.0.attn_q.weight"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("iq2_xxs"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(StrayFiles({"iq2.gguf"}).empty());
}

}  // namespace
}  // namespace jarvis
