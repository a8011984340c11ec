// The reply bodies of the embedding endpoints, built from an EmbedResult.
// Pure functions; field names as the OpenAI and Ollama API references give
// them (docs/API.md).
#pragma once

#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "jarvis/embed.h"

namespace jarvis::api {

// OpenAI's base64 encoding_format: the float32 components, little-endian,
// as standard base64 (with padding).
std::string Base64Floats(std::span<const float> values);

// POST /v1/embeddings: {object: "list", data: [{object: "embedding", index,
// embedding}], model, usage: {prompt_tokens, total_tokens}}.
nlohmann::json OpenAiEmbeddingJson(const EmbedResult& result, const std::string& model, bool base64);

// POST /api/embed: {model, embeddings, total_duration, load_duration,
// prompt_eval_count}; durations in nanoseconds. `load_ms`: the model load
// this request waited for (0 when it was resident).
nlohmann::json OllamaEmbedJson(const EmbedResult& result, const std::string& model, double load_ms);

// POST /api/embeddings (legacy): {embedding} of the one input; [] for none.
nlohmann::json OllamaLegacyEmbeddingJson(const EmbedResult& result);

}  // namespace jarvis::api
