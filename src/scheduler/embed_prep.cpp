#include "scheduler/embed_prep.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace jarvis {
namespace {

// The special token the tokenizer appends after the text with add_special
// ([SEP] for WordPiece, EOS where the vocabulary adds one), or -1.
int32_t TrailingSpecial(const Tokenizer& tok) {
  if (tok.add_sep() && tok.sep_id() >= 0) return tok.sep_id();
  if (tok.add_eos() && tok.eos_id() >= 0) return tok.eos_id();
  return -1;
}

std::string InputName(size_t i, size_t n) { return n == 1 ? "the input" : "input " + std::to_string(i); }

}  // namespace

Result<std::vector<std::vector<int32_t>>> PrepareEmbedInputs(const Tokenizer& tokenizer, int32_t n_vocab,
                                                             int32_t n_ctx, int32_t width,
                                                             const EmbedRequest& request) {
  if (request.dimensions < 0) return Status::InvalidArgument("dimensions must be positive");
  if (request.context < 0) return Status::InvalidArgument("the context must be positive");
  if (request.context > 0) n_ctx = std::min(n_ctx, request.context);  // num_ctx
  if (request.dimensions > width) {
    return Status::InvalidArgument("dimensions is " + std::to_string(request.dimensions) +
                                   " but the model's embeddings have " + std::to_string(width));
  }
  const bool from_tokens = !request.token_inputs.empty();
  const size_t n = from_tokens ? request.token_inputs.size() : request.texts.size();
  if (n == 0) return Status::InvalidArgument("no input to embed");
  const int32_t trailing = from_tokens ? -1 : TrailingSpecial(tokenizer);
  std::vector<std::vector<int32_t>> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<int32_t> ids;
    if (from_tokens) {
      ids = request.token_inputs[i];
      for (int32_t id : ids) {
        if (id < 0 || id >= n_vocab) {
          return Status::InvalidArgument(InputName(i, n) + " has token id " + std::to_string(id) +
                                         " outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
        }
      }
    } else {
      if (request.texts[i].empty()) return Status::InvalidArgument(InputName(i, n) + " is empty");
      JARVIS_ASSIGN_OR_RETURN(ids, tokenizer.Encode(request.texts[i]));
    }
    if (ids.empty()) return Status::InvalidArgument(InputName(i, n) + " is empty");
    if (static_cast<int64_t>(ids.size()) > n_ctx) {
      if (!request.truncate) {
        return Status::InvalidArgument(InputName(i, n) + " has " + std::to_string(ids.size()) +
                                       " tokens but the context holds " + std::to_string(n_ctx) +
                                       " (set truncate to cut it)");
      }
      const bool keep_last = trailing >= 0 && ids.back() == trailing;
      ids.resize(static_cast<size_t>(n_ctx));
      if (keep_last) ids.back() = trailing;
    }
    out.push_back(std::move(ids));
  }
  return out;
}

std::vector<float> ShrinkEmbedding(std::span<const float> full, int32_t dims) {
  if (dims <= 0 || static_cast<size_t>(dims) >= full.size()) return {full.begin(), full.end()};
  std::vector<float> out(full.begin(), full.begin() + dims);
  double sum = 0.0;
  for (float v : out) sum += static_cast<double>(v) * v;
  if (sum > 0.0) {
    const float inv = static_cast<float>(1.0 / std::sqrt(sum));
    for (float& v : out) v *= inv;
  }
  return out;
}

}  // namespace jarvis
