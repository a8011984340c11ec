// Writes a seed corpus for gguf_fuzz into DIR: writer-made files (every value
// type, alignments 32 and 64, vocabulary-only, single tensor) and, when given,
// the first MAX_LEN bytes of real GGUF files.
//   gguf_fuzz_seeds DIR MAX_LEN [FILE.gguf ...]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gguf/gguf_sample.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR MAX_LEN [FILE.gguf ...]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const size_t max_len = std::strtoull(argv[2], nullptr, 10);
  using jarvis::Status;
  auto check = [](const Status& s) {
    if (!s.ok()) {
      std::fprintf(stderr, "gguf_fuzz_seeds: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  };
  check(jarvis::sample::WriteSample(dir + "/sample32.gguf", 32));
  check(jarvis::sample::WriteSample(dir + "/sample64.gguf", 64));
  {
    jarvis::GgufWriter w;
    w.SetString("general.architecture", "llama");
    w.SetStringArray("tokenizer.ggml.tokens", {"<s>", "</s>", "a", "b", "ab"});
    w.SetStringArray("tokenizer.ggml.merges", {"a b"});
    w.SetInt32Array("tokenizer.ggml.token_type", {3, 3, 1, 1, 1});
    check(w.WriteFile(dir + "/vocab.gguf", nullptr));
  }
  {
    jarvis::GgufWriter w;
    check(w.AddTensor("w", {32, 2}, jarvis::GgmlType::kQ8_0));
    check(w.WriteFile(dir + "/tensor.gguf",
                      [](size_t, const jarvis::GgufTensorPlan&, std::span<uint8_t>) { return Status::Ok(); }));
  }
  for (int i = 3; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::vector<char> buf(max_len);
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.resize(static_cast<size_t>(in.gcount()));
    std::ofstream out(dir + "/real" + std::to_string(i - 3) + ".gguf", std::ios::binary);
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (!out) {
      std::fprintf(stderr, "gguf_fuzz_seeds: cannot write seed for %s\n", argv[i]);
      return 1;
    }
  }
  return 0;
}
