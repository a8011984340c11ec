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
  float rms_eps = 1e-5f;
  RopeParams rope;           // the global (non-sliding) layers' rope
  float attn_scale = 0.0f;   // query scaling: 1/sqrt(head_dim) or 1/sqrt(query_pre_attn_scalar)
  float embd_scale = 1.0f;   // embeddings multiplied by this (sqrt(n_embd) for Gemma)
  float attn_softcap = 0.0f; // attention logit soft-capping (0: none)
  float final_softcap = 0.0f;// output logit soft-capping (0: none)
  int32_t sliding_window = 0;// window of the local layers (0: none)
  int32_t swa_period = 0;    // layer il is local when il % period < period - 1
  int32_t rope_orig_ctx = 0; // longrope: original context (short factors up to it)
  std::vector<LayerParams> layers;

  int32_t n_embd_q() const { return n_head * head_dim; }
  int32_t n_embd_kv() const { return n_head_kv * head_dim; }
  ArchShape shape() const;
};

// Unsupported for an architecture not in the table (listing the supported
// ones); InvalidArgument (naming the key) for missing or inconsistent values.
Result<HParams> ReadHParams(const GgufFile& gguf);

}  // namespace jarvis
