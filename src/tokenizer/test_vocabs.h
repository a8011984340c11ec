// Test-only: the shared vocabularies, each loaded once per test process.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "gguf/gguf_reader.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace jarvis::test {

// Loads ../shared/<relative>; a failure is fatal to the calling test.
inline std::unique_ptr<Tokenizer> LoadTokenizer(const std::string& relative) {
  auto gguf = GgufFile::Open(SharedPath(relative));
  if (!gguf.ok()) {
    ADD_FAILURE() << gguf.status().ToString();
    return nullptr;
  }
  auto tok = Tokenizer::FromGguf(**gguf);
  if (!tok.ok()) {
    ADD_FAILURE() << tok.status().ToString();
    return nullptr;
  }
  return std::move(tok).value();
}

inline const Tokenizer* Llama3() {
  static const std::unique_ptr<Tokenizer> t = LoadTokenizer("tokenizers/llama3-vocab.gguf");
  return t.get();
}
inline const Tokenizer* Qwen3() {
  static const std::unique_ptr<Tokenizer> t = LoadTokenizer("tokenizers/qwen3-vocab.gguf");
  return t.get();
}
inline const Tokenizer* Stories() {
  static const std::unique_ptr<Tokenizer> t = LoadTokenizer("models/stories260K.gguf");
  return t.get();
}

}  // namespace jarvis::test
