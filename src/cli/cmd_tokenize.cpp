// `jarvis tokenize --model FILE (--text TEXT | --file F) [--no-special]
// [--parse-special] [--json]`: the token ids of a text, as the model's
// tokenizer (and llama.cpp) produce them. Works on vocabulary-only GGUF files.
//
// Human output: one token per line, "id<TAB>'piece'", ids right-aligned;
// control tokens show their text, other bytes that are not printable are
// escaped (\n, \t, \xNN). --json: {"ids": [...], "pieces": [...]}, pieces as
// strings with bytes that are not valid UTF-8 (part of a character) as U+FFFD.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace jarvis::cli {
namespace {

// A piece made printable on one line: valid UTF-8 stays, control characters,
// quotes and backslashes are escaped, bytes of incomplete characters as \xNN.
std::string Printable(std::string_view piece) {
  std::string out;
  size_t pos = 0;
  while (pos < piece.size()) {
    const utf8::Decoded d = utf8::DecodeAt(piece, pos);
    const auto byte = static_cast<uint8_t>(piece[pos]);
    if (d.kind == utf8::Decoded::kValid && d.length > 1) {
      out.append(piece.substr(pos, d.length));
      pos += d.length;
      continue;
    }
    switch (byte) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      default:
        if (byte >= 0x20 && byte < 0x7F) {
          out.push_back(static_cast<char>(byte));
        } else {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02X", byte);
          out += buf;
        }
    }
    ++pos;
  }
  return out;
}

bool ReadInput(const std::string& path, std::string* text) {
  if (path == "-") {
    char buf[1 << 16];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0) text->append(buf, n);
    return std::ferror(stdin) == 0;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  return !in.bad();
}

}  // namespace

void RegisterTokenize(CLI::App& app) {
  struct Options {
    std::string model;
    std::string text;
    std::string file;
    bool no_special = false;
    bool parse_special = false;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd =
      app.add_subcommand("tokenize", "Show the token ids of a text under a model's tokenizer");
  cmd->add_option("-m,--model", opts->model, "GGUF file with a vocabulary (weights not needed)")
      ->required();
  CLI::Option* text = cmd->add_option("--text", opts->text, "Text to tokenize");
  CLI::Option* file =
      cmd->add_option("--file", opts->file, "Read the text from this file ('-': stdin)");
  text->excludes(file);
  cmd->add_flag("--no-special", opts->no_special, "Do not add BOS/EOS");
  cmd->add_flag("--parse-special", opts->parse_special,
                "Match control-token texts such as <|eot_id|> as those tokens");
  cmd->add_flag("--json", opts->json, "Print {\"ids\": [...], \"pieces\": [...]}");
  cmd->callback([opts, text, file] {
    if (text->count() == 0 && file->count() == 0)
      Fail("tokenize: give --text or --file", kExitUsageError);
    std::string input = opts->text;
    if (file->count() > 0 && !ReadInput(opts->file, &input)) Fail("cannot read " + opts->file);

    auto gguf = GgufFile::Open(opts->model);
    if (!gguf.ok()) Fail(gguf.status().ToString(), kExitRuntimeError);
    auto tokenizer = Tokenizer::FromGguf(**gguf);
    if (!tokenizer.ok()) Fail(tokenizer.status().ToString(), kExitRuntimeError);

    Tokenizer::EncodeOptions encode;
    encode.add_special = !opts->no_special;
    encode.parse_special = opts->parse_special;
    auto ids = (*tokenizer)->Encode(input, encode);
    if (!ids.ok()) Fail(ids.status());

    if (opts->json) {
      nlohmann::json pieces = nlohmann::json::array();
      for (const int32_t id : *ids) pieces.push_back(std::string((*tokenizer)->Piece(id, true)));
      const nlohmann::json out = {{"ids", *ids}, {"pieces", pieces}};
      std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
      return;
    }
    int width = 1;
    for (const int32_t id : *ids)
      width = std::max(width, static_cast<int>(std::to_string(id).size()));
    std::string line;
    for (const int32_t id : *ids) {
      const std::string num = std::to_string(id);
      line.assign(width - num.size(), ' ');
      line += num;
      line += "\t'";
      line += Printable((*tokenizer)->Piece(id, true));
      line += "'\n";
      std::cout << line;
    }
    std::cout.flush();
  });
}

}  // namespace jarvis::cli
