#if defined(JARVIS_HAVE_CUDA)

#include "gpu/cuda_layer_ops.h"

#include "kernels/cuda/launchers.h"

namespace jarvis::gpu {

void CudaLayerOps::MatMul(int32_t layer, TensorRole weight, Act in, Act out, int32_t rows) {
  const DeviceMatrix& w = layer < 0 ? weights_.output : Layer(layer).matrix(weight);
  cuda::MatMul(w.type, w.data, w.rows, w.cols, w.row_bytes, at(in), rows, at(out), b_.stream);
}

void CudaLayerOps::RmsNorm(int32_t layer, TensorRole weight, Act in, Act out, int64_t width, int32_t rows,
                           float eps) {
  const float* w = layer < 0 ? weights_.output_norm : Layer(layer).vector(weight);
  cuda::RmsNorm(at(in), w, width, eps, /*row_map=*/nullptr, rows, at(out), b_.stream);
}

void CudaLayerOps::AddBias(int32_t layer, TensorRole bias, Act x, int64_t width, int32_t rows) {
  cuda::AddBias(at(x), Layer(layer).vector(bias), width, rows, b_.stream);
}

void CudaLayerOps::Rope(Act x, int32_t n_heads, int32_t head_dim, const RopeParams& rope) {
  cuda::RopeArgs args;
  args.n_rot = rope.n_rot;
  args.freq_base = rope.freq_base;
  args.freq_scale = rope.freq_scale;
  args.neox = rope.style == RopeStyle::kNeox;
  args.freq_factors = weights_.DeviceVector(rope.freq_factors);  // uploaded with every factor set
  args.attn_factor = rope.attn_factor;
  cuda::Rope(at(x), b_.n_tokens, n_heads, head_dim, b_.positions, args, b_.stream);
}

void CudaLayerOps::StoreKvAndAttend(int32_t layer, const AttentionParams& params) {
  const int32_t local = layer - first_;  // the device pool holds the offloaded layers only
  cuda::PagedKv kv;
  kv.pool = b_.kv_pool;
  kv.block_bytes = b_.kv_layout.block_bytes();
  kv.k_offset = b_.kv_layout.k_offset(local);
  kv.v_offset = b_.kv_layout.v_offset(local);
  kv.row_bytes = b_.kv_layout.row_bytes();
  kv.block_size = b_.kv_layout.block_size;
  kv.f16 = b_.kv_layout.type == KvType::kF16;  // else F32: CudaLayerOffload::Init refuses the rest
  kv.tables = b_.tables;
  kv.table_offsets = b_.table_offsets;
  cuda::StoreKv(at(Act::kK), at(Act::kV), hp_.n_embd_kv(), b_.n_tokens, b_.positions, kv, b_.stream);
  cuda::AttentionOptions options;
  options.scale = params.scale;
  options.softcap = params.softcap;
  options.window = params.window;
  cuda::Attention(at(Act::kQ), kv, b_.positions, b_.n_tokens, hp_.n_head, hp_.n_head_kv, hp_.head_dim, options,
                  b_.max_n_pos, b_.attention_scratch, at(Act::kAtt), b_.stream);
}

void CudaLayerOps::GatedActivation(FfnActivation activation, Act gate, Act up, int64_t n) {
  if (activation == FfnActivation::kGeluTanh) {
    cuda::GeluTanhMul(at(gate), at(up), n, b_.stream);
  } else {
    cuda::SiluMul(at(gate), at(up), n, b_.stream);
  }
}

void CudaLayerOps::Add(Act x, Act y, int64_t n) { cuda::Add(at(x), at(y), n, b_.stream); }

void CudaLayerOps::Softcap(Act x, int64_t n, float cap) { cuda::Softcap(at(x), n, cap, b_.stream); }

void CudaLayerOps::NormLogitRows(Act in, Act out, int64_t width, float eps) {
  cuda::RmsNorm(at(in), weights_.output_norm, width, eps, b_.out_rows, b_.n_outputs, at(out), b_.stream);
}

}  // namespace jarvis::gpu

#endif  // JARVIS_HAVE_CUDA
