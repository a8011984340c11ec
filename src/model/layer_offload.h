// LayerOffload: the seam between the CPU layer graph and an accelerator.
// An offload owns the last layers of a model and its output head: ForwardPass
// runs layers [0, first_layer()) on the CPU, then hands the hidden states to
// the offload, which runs layers [first_layer(), n_layer), the final norm and
// the output projection, and returns the logits to the host.
//
// KV: the offload keeps the K/V of its layers in its own memory, addressed by
// the same block ids and block tables as the CPU pool (engine/kv_cache.h), so
// the scheduler's paging and prefix reuse apply unchanged. When the KV cache
// copies a block (copy-on-write of a shared partial block), it calls
// CopyKvBlock so the offload's copy follows.
//
// Thread safety: like ForwardPass, one thread at a time.
#pragma once

#include <cstdint>
#include <string>

#include "jarvis/status.h"
#include "model/batch.h"

namespace jarvis {

class LayerOffload {
 public:
  virtual ~LayerOffload() = default;

  // First layer the offload runs; it runs every layer from here to the last.
  virtual int32_t first_layer() const = 0;

  // x: the batch's hidden states after layer first_layer() - 1 (host memory,
  // batch.size() x n_embd, row-major). Runs the offloaded layers (writing their
  // K/V for each token at its sequence's block/slot), then the final norm and
  // output projection for the tokens with logits=1, and writes those logits in
  // batch order to `logits` (host, n_outputs x n_vocab). The batch has been
  // validated by the caller.
  virtual Status Forward(const Batch& batch, const float* x, float* logits) = 0;

  // The KV cache copied block `src` to block `dst` (all layers).
  virtual Status CopyKvBlock(int32_t src, int32_t dst) = 0;

  // One line for logs and --version: "cuda:0 NVIDIA H100 (16/16 layers + output)".
  virtual std::string Describe() const = 0;

  // Device memory this offload holds for the model: its weights plus its KV
  // pool, fixed once created (scratch that grows with the batch is not
  // counted). What /api/ps reports as size_vram.
  virtual uint64_t DeviceBytes() const = 0;
};

}  // namespace jarvis
