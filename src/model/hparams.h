// Hyper-parameters of a model, read from GGUF metadata ("<arch>.embedding_length",
// ...) as its architecture's spec (model/arch.h) says, and checked for consistency.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "jarvis/status.h"
#include "kernels/cpu/ops.h"
#include "model/arch.h"

namespace jarvis {

// How Engine::Embed turns a sequence's final hidden states into one vector:
// the values of GGUF's `<arch>.pooling_type` (llama.cpp's llama_pooling_type).
enum class Pooling : int32_t {
  kNone = 0,  // one vector per token: not an embedding of the input (Embed refuses it)
  kMean = 1,  // mean over the input's tokens
  kCls = 2,   // the first token's ([CLS]) state
  kLast = 3,  // the last token's state
  kRank = 4,  // a reranker's classification head (Embed refuses it)
};
// "mean", "cls", "last", "none", "rank".
const char* PoolingName(Pooling p);

// What differs between the layers of one model.
struct LayerParams {
  bool sliding_window = false;  // attends to the last `HParams::sliding_window` positions only
  // Base and scaling of this layer. freq_factors (bound with the weights) is
  // the set of a run at the original context; a run's own choice is its
  // LayerGraph's (model/layer_graph.h, RopeFactorsForContext).
  RopeParams rope;
};

struct HParams {
  const ArchSpec* spec = nullptr;  // never null after ReadHParams
  std::string arch_name;     // general.architecture
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;   // context length the model was trained with
  int32_t n_embd = 0;        // residual stream width
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;     // < n_head: grouped-query attention
  int32_t head_dim = 0;      // attention.key_length, usually n_embd / n_head
  int32_t n_ff = 0;          // hidden width of the gated FFN
  // Epsilon of the model's norms: attention.layer_norm_rms_epsilon (RMSNorm),
  // or attention.layer_norm_epsilon for LayerNorm architectures (ArchSpec::norm).
  float rms_eps = 1e-5f;
  RopeParams rope;           // the global (non-sliding) layers' rope
  float attn_scale = 0.0f;   // query scaling: 1/sqrt(head_dim) or 1/sqrt(query_pre_attn_scalar)
  float embd_scale = 1.0f;   // embeddings multiplied by this (sqrt(n_embd) for Gemma)
  float attn_softcap = 0.0f; // attention logit soft-capping (0: none)
  float final_softcap = 0.0f;// output logit soft-capping (0: none)
  int32_t sliding_window = 0;// window of the local layers (0: none)
  int32_t swa_period = 0;    // layer il is local when il % period < period - 1
  int32_t rope_orig_ctx = 0; // longrope: original context (short factors up to it)
  // Embeddings (Engine::Embed). pooling: `<arch>.pooling_type`; without it
  // mean, for decoders too (llama.cpp leaves a decoder's pooling unspecified
  // and its server then means; mean uses every token, which a causal model's
  // last token alone would not). causal: `<arch>.attention.causal`; without
  // it, true for decoders and false for encoders (ArchSpec::encoder).
  Pooling pooling = Pooling::kMean;
  bool causal = true;
  // Rows of token_types.weight: tokenizer.ggml.token_type_count, else the
  // tensor's (BindWeights); 0 when neither says. Only encoders use it.
  int32_t n_token_types = 0;
  std::vector<LayerParams> layers;

  int32_t n_embd_q() const { return n_head * head_dim; }
  int32_t n_embd_kv() const { return n_head_kv * head_dim; }
  ArchShape shape() const;
};

// Unsupported for an architecture not in the table (listing the supported
// ones); InvalidArgument (naming the key) for missing or inconsistent values.
Result<HParams> ReadHParams(const GgufFile& gguf);

}  // namespace jarvis
