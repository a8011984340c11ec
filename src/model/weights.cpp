#include "model/weights.h"

#include <string>

namespace jarvis {
namespace {

std::string DimsString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

class Binder {
 public:
  explicit Binder(const GgufFile& gguf) : gguf_(gguf) {}

  // A 2-D weight with GGUF dims [cols, rows].
  Result<WeightMatrix> Matrix(const std::string& name, int64_t cols, int64_t rows) {
    JARVIS_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name));
    if (t->dims.size() != 2 || t->dims[0] != cols || t->dims[1] != rows) {
      return Status::InvalidArgument(gguf_.name() + ": tensor " + name + " has shape " +
                                     DimsString(t->dims) + ", expected [" + std::to_string(cols) +
                                     ", " + std::to_string(rows) + "]");
    }
    if (!IsComputeWeightType(t->type)) {
      return Status::Unsupported(gguf_.name() + ": tensor " + name + " has type " + TypeName(t->type) +
                                 ", which the engine cannot compute with (supported: " +
                                 ComputeWeightTypeList() + ")");
    }
    WeightMatrix w;
    w.type = t->type;
    w.data = t->data;
    w.rows = rows;
    w.cols = cols;
    w.row_bytes = RowSize(t->type, cols);
    return w;
  }

  // A 1-D F32 vector of n elements (norm weights, biases, rope factors).
  Result<const float*> Vector(const std::string& name, int64_t n) {
    JARVIS_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name));
    if (t->n_elements != static_cast<uint64_t>(n) || t->dims.size() != 1) {
      return Status::InvalidArgument(gguf_.name() + ": tensor " + name + " has shape " +
                                     DimsString(t->dims) + ", expected [" + std::to_string(n) + "]");
    }
    if (t->type != GgmlType::kF32) {
      return Status::Unsupported(gguf_.name() + ": tensor " + name + " has type " + TypeName(t->type) +
                                 "; 1-D tensors must be f32");
    }
    return reinterpret_cast<const float*>(t->data);
  }

  bool Has(const std::string& name) const { return gguf_.FindTensor(name) != nullptr; }

  // Rows [first, first + n) of `m` as a matrix of their own (a fused tensor's part).
  static WeightMatrix Rows(const WeightMatrix& m, int64_t first, int64_t n) {
    WeightMatrix r = m;
    r.data = m.data + static_cast<size_t>(first) * m.row_bytes;
    r.rows = n;
    return r;
  }

 private:
  Result<const GgufTensorInfo*> Find(const std::string& name) {
    const GgufTensorInfo* t = gguf_.FindTensor(name);
    if (t == nullptr) return Status::NotFound(gguf_.name() + ": missing tensor " + name);
    return t;
  }
  const GgufFile& gguf_;
};

}  // namespace

Result<ModelWeights> BindWeights(const GgufFile& gguf, HParams* hp) {
  Binder b(gguf);
  ModelWeights w;
  if (hp->n_vocab == 0) {
    const GgufTensorInfo* embd = gguf.FindTensor("token_embd.weight");
    if (embd == nullptr || embd->dims.size() != 2) {
      return Status::NotFound(gguf.name() + ": missing tensor token_embd.weight");
    }
    hp->n_vocab = static_cast<int32_t>(embd->dims[1]);
  }
  ArchShape shape = hp->shape();
  shape.tied_embeddings = !b.Has("output.weight");
  shape.fused_qkv = hp->spec->fused_qkv && b.Has("blk.0.attn_qkv.weight");
  shape.rope_freqs = b.Has("rope_freqs.weight");
  shape.n_ctx_train = hp->n_ctx_train;
  if (const GgufTensorInfo* types = gguf.FindTensor("token_types.weight");
      types != nullptr && hp->spec->token_types) {
    // Without tokenizer.ggml.token_type_count the tensor says how many types.
    if (hp->n_token_types == 0 && types->dims.size() == 2) hp->n_token_types = static_cast<int32_t>(types->dims[1]);
    shape.n_token_types = hp->n_token_types;
  }
  if (hp->spec->encoder) shape.tied_embeddings = false;  // no head at all
  w.tied_embeddings = shape.tied_embeddings;
  w.fused_qkv = shape.fused_qkv;
  w.layers.resize(static_cast<size_t>(hp->n_layer));
  const int64_t dq = hp->n_embd_q(), dkv = hp->n_embd_kv(), ff = hp->n_ff;
  for (const TensorEntry& t : ArchTensors(*hp->spec, shape)) {
    if (!t.required && !b.Has(t.name)) continue;
    LayerWeights* l = t.layer >= 0 ? &w.layers[static_cast<size_t>(t.layer)] : nullptr;
    const int64_t n = t.dims[0];
    auto vec = [&](const float** out) -> Status {
      JARVIS_ASSIGN_OR_RETURN(*out, b.Vector(t.name, n));
      return Status::Ok();
    };
    auto mat = [&](WeightMatrix* out) -> Status {
      JARVIS_ASSIGN_OR_RETURN(*out, b.Matrix(t.name, t.dims[0], t.dims[1]));
      return Status::Ok();
    };
    WeightMatrix fused;
    switch (t.role) {
      case TensorRole::kTokenEmbd: JARVIS_RETURN_IF_ERROR(mat(&w.tok_embd)); break;
      case TensorRole::kPosEmbd: JARVIS_RETURN_IF_ERROR(mat(&w.pos_embd)); break;
      case TensorRole::kTokenTypes: JARVIS_RETURN_IF_ERROR(mat(&w.type_embd)); break;
      case TensorRole::kTokenEmbdNorm: JARVIS_RETURN_IF_ERROR(vec(&w.tok_norm)); break;
      case TensorRole::kTokenEmbdNormBias: JARVIS_RETURN_IF_ERROR(vec(&w.tok_norm_b)); break;
      case TensorRole::kOutputNorm: JARVIS_RETURN_IF_ERROR(vec(&w.output_norm)); break;
      case TensorRole::kOutput: JARVIS_RETURN_IF_ERROR(mat(&w.output)); break;
      case TensorRole::kRopeFreqs: JARVIS_RETURN_IF_ERROR(vec(&w.rope_freqs)); break;
      case TensorRole::kRopeFactorsShort: JARVIS_RETURN_IF_ERROR(vec(&w.rope_factors_short)); break;
      case TensorRole::kRopeFactorsLong: JARVIS_RETURN_IF_ERROR(vec(&w.rope_factors_long)); break;
      case TensorRole::kAttnNorm: JARVIS_RETURN_IF_ERROR(vec(&l->attn_norm)); break;
      case TensorRole::kAttnQ: JARVIS_RETURN_IF_ERROR(mat(&l->wq)); break;
      case TensorRole::kAttnK: JARVIS_RETURN_IF_ERROR(mat(&l->wk)); break;
      case TensorRole::kAttnV: JARVIS_RETURN_IF_ERROR(mat(&l->wv)); break;
      case TensorRole::kAttnQkv:
        JARVIS_RETURN_IF_ERROR(mat(&fused));
        l->wq = Binder::Rows(fused, 0, dq);
        l->wk = Binder::Rows(fused, dq, dkv);
        l->wv = Binder::Rows(fused, dq + dkv, dkv);
        break;
      case TensorRole::kAttnQBias: JARVIS_RETURN_IF_ERROR(vec(&l->bq)); break;
      case TensorRole::kAttnKBias: JARVIS_RETURN_IF_ERROR(vec(&l->bk)); break;
      case TensorRole::kAttnVBias: JARVIS_RETURN_IF_ERROR(vec(&l->bv)); break;
      case TensorRole::kAttnQNorm: JARVIS_RETURN_IF_ERROR(vec(&l->q_norm)); break;
      case TensorRole::kAttnKNorm: JARVIS_RETURN_IF_ERROR(vec(&l->k_norm)); break;
      case TensorRole::kAttnOut: JARVIS_RETURN_IF_ERROR(mat(&l->wo)); break;
      case TensorRole::kAttnOutBias: JARVIS_RETURN_IF_ERROR(vec(&l->bo)); break;
      case TensorRole::kAttnPostNorm: JARVIS_RETURN_IF_ERROR(vec(&l->attn_post_norm)); break;
      case TensorRole::kAttnOutNorm: JARVIS_RETURN_IF_ERROR(vec(&l->attn_out_norm)); break;
      case TensorRole::kAttnOutNormBias: JARVIS_RETURN_IF_ERROR(vec(&l->attn_out_norm_b)); break;
      case TensorRole::kFfnUpBias: JARVIS_RETURN_IF_ERROR(vec(&l->b_up)); break;
      case TensorRole::kFfnDownBias: JARVIS_RETURN_IF_ERROR(vec(&l->b_down)); break;
      case TensorRole::kLayerOutNorm: JARVIS_RETURN_IF_ERROR(vec(&l->layer_out_norm)); break;
      case TensorRole::kLayerOutNormBias: JARVIS_RETURN_IF_ERROR(vec(&l->layer_out_norm_b)); break;
      case TensorRole::kFfnNorm: JARVIS_RETURN_IF_ERROR(vec(&l->ffn_norm)); break;
      case TensorRole::kFfnGate: JARVIS_RETURN_IF_ERROR(mat(&l->w_gate)); break;
      case TensorRole::kFfnUp: JARVIS_RETURN_IF_ERROR(mat(&l->w_up)); break;
      case TensorRole::kFfnGateUp:
        // [gate; up]: the first n_ff rows are the gate (llama.cpp's swiglu split).
        JARVIS_RETURN_IF_ERROR(mat(&fused));
        l->w_gate = Binder::Rows(fused, 0, ff);
        l->w_up = Binder::Rows(fused, ff, ff);
        break;
      case TensorRole::kFfnDown: JARVIS_RETURN_IF_ERROR(mat(&l->w_down)); break;
      case TensorRole::kFfnPostNorm: JARVIS_RETURN_IF_ERROR(vec(&l->ffn_post_norm)); break;
    }
  }
  if (w.tied_embeddings) w.output = w.tok_embd;  // Llama 3.2 1B/3B, SmolLM, Gemma
  if (hp->spec->encoder) {
    // An encoder runs whole batches of inputs through its matrices at once
    // (compute-bound): F16 / BF16 ones use BF16 dot products where the CPU
    // has them (kernels/cpu/matmul.h).
    for (LayerWeights& l : w.layers) {
      l.ForEachMatrix([](WeightMatrix& m) {
        if (m.data != nullptr && (m.type == GgmlType::kF16 || m.type == GgmlType::kBF16)) m.bf16_dot = true;
      });
    }
  }
  if (w.rope_factors_short != nullptr && w.rope_factors_long == nullptr) {
    return Status::NotFound(gguf.name() +
                            ": missing tensor rope_factors_long.weight (rope_factors_short.weight is present)");
  }
  // The model-level default is the factors of a run at the original context
  // (longrope: the short ones); the layer graph picks per run
  // (RopeFactorsForContext).
  hp->rope.freq_factors = RopeFactorsForContext(w, *hp, hp->rope_orig_ctx);
  for (LayerParams& l : hp->layers) l.rope.freq_factors = hp->rope.freq_factors;
  return w;
}

const float* RopeFactorsForContext(const ModelWeights& w, const HParams& hp, int32_t n_ctx) {
  if (w.rope_freqs != nullptr) return w.rope_freqs;
  if (w.rope_factors_long != nullptr && n_ctx > hp.rope_orig_ctx) return w.rope_factors_long;
  return w.rope_factors_short;
}

const WeightMatrix& LayerWeights::matrix(TensorRole role) const {
  static const WeightMatrix kNone;
  switch (role) {
    case TensorRole::kAttnQ: return wq;
    case TensorRole::kAttnK: return wk;
    case TensorRole::kAttnV: return wv;
    case TensorRole::kAttnOut: return wo;
    case TensorRole::kFfnGate: return w_gate;
    case TensorRole::kFfnUp: return w_up;
    case TensorRole::kFfnDown: return w_down;
    default: return kNone;
  }
}

const float* LayerWeights::vector(TensorRole role) const {
  switch (role) {
    case TensorRole::kAttnNorm: return attn_norm;
    case TensorRole::kAttnQBias: return bq;
    case TensorRole::kAttnKBias: return bk;
    case TensorRole::kAttnVBias: return bv;
    case TensorRole::kAttnQNorm: return q_norm;
    case TensorRole::kAttnKNorm: return k_norm;
    case TensorRole::kAttnOutBias: return bo;
    case TensorRole::kAttnPostNorm: return attn_post_norm;
    case TensorRole::kAttnOutNorm: return attn_out_norm;
    case TensorRole::kAttnOutNormBias: return attn_out_norm_b;
    case TensorRole::kFfnNorm: return ffn_norm;
    case TensorRole::kFfnUpBias: return b_up;
    case TensorRole::kFfnDownBias: return b_down;
    case TensorRole::kFfnPostNorm: return ffn_post_norm;
    case TensorRole::kLayerOutNorm: return layer_out_norm;
    case TensorRole::kLayerOutNormBias: return layer_out_norm_b;
    default: return nullptr;
  }
}

int64_t LayerWeights::VectorLength(const HParams& hp, TensorRole role) {
  switch (role) {
    case TensorRole::kAttnQBias: return hp.n_embd_q();
    case TensorRole::kAttnKBias: case TensorRole::kAttnVBias: return hp.n_embd_kv();
    case TensorRole::kAttnQNorm: case TensorRole::kAttnKNorm: return hp.head_dim;
    case TensorRole::kFfnUpBias: return hp.n_ff;
    default: return hp.n_embd;  // the norms of the residual stream
  }
}

}  // namespace jarvis
