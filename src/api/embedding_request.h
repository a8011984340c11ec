// Request parsing for the embedding endpoints: JSON bodies of OpenAI's
// POST /v1/embeddings and Ollama's POST /api/embed and POST /api/embeddings
// turned into a validated EmbedRequest plus how to answer it. Pure functions
// (no I/O); InvalidArgument names the offending field.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include <nlohmann/json.hpp>

#include "jarvis/embed.h"
#include "jarvis/status.h"

namespace jarvis::api {

// Inputs per request, as OpenAI's limit (a larger batch is a 400, not a
// request that holds the model's embedding queue for minutes).
inline constexpr size_t kMaxEmbedInputs = 2048;

struct ParsedEmbedding {
  EmbedRequest request;
  bool base64 = false;  // OpenAI encoding_format "base64": float32 little-endian
  std::optional<std::chrono::seconds> keep_alive;  // Ollama
  // Ollama's legacy /api/embeddings without a prompt: only loads the model
  // and answers an empty embedding (as Ollama does).
  bool load_only = false;
};

// OpenAI: model, input (a string, an array of strings, an array of token
// ids, or an array of arrays of token ids; none empty), encoding_format
// ("float" default, "base64"), dimensions (>= 1), user (accepted), and the
// non-standard cache (bool, the response cache). Inputs are truncated to the
// context (truncate = true), as OpenAI's own models are not: jarvis answers
// rather than failing on a long document (docs/API.md).
Result<ParsedEmbedding> ParseOpenAiEmbedding(const nlohmann::json& body);

// Ollama /api/embed: model, input (a string or an array of strings),
// truncate (default true), keep_alive, dimensions, options, cache. Options
// are for generation; those that cannot change an embedding (sampling,
// placement, threads) are accepted and have no effect; num_ctx, which would
// change where inputs are cut, is a 400 (the server's context applies).
Result<ParsedEmbedding> ParseOllamaEmbed(const nlohmann::json& body);

// Ollama's legacy /api/embeddings: model, prompt (a string), keep_alive,
// options (as /api/embed), cache; truncate is always true.
Result<ParsedEmbedding> ParseOllamaEmbeddings(const nlohmann::json& body);

}  // namespace jarvis::api
