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
  const int64_t n_embd = hp->n_embd;
  JARVIS_ASSIGN_OR_RETURN(w.tok_embd, b.Matrix("token_embd.weight", n_embd, hp->n_vocab));
  JARVIS_ASSIGN_OR_RETURN(w.output_norm, b.Vector("output_norm.weight", n_embd));
  if (b.Has("output.weight")) {
    JARVIS_ASSIGN_OR_RETURN(w.output, b.Matrix("output.weight", n_embd, hp->n_vocab));
  } else {
    w.output = w.tok_embd;  // tied embeddings (Llama 3.2 1B/3B, SmolLM)
    w.tied_embeddings = true;
  }
  if (b.Has("rope_freqs.weight")) {
    JARVIS_ASSIGN_OR_RETURN(w.rope_freqs, b.Vector("rope_freqs.weight", hp->rope.n_rot / 2));
    hp->rope.freq_factors = w.rope_freqs;
  }
  const int64_t n_q = hp->n_embd_q();
  const int64_t n_kv = hp->n_embd_kv();
  w.layers.resize(static_cast<size_t>(hp->n_layer));
  for (int32_t i = 0; i < hp->n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    JARVIS_ASSIGN_OR_RETURN(l.attn_norm, b.Vector(p + "attn_norm.weight", n_embd));
    JARVIS_ASSIGN_OR_RETURN(l.wq, b.Matrix(p + "attn_q.weight", n_embd, n_q));
    JARVIS_ASSIGN_OR_RETURN(l.wk, b.Matrix(p + "attn_k.weight", n_embd, n_kv));
    JARVIS_ASSIGN_OR_RETURN(l.wv, b.Matrix(p + "attn_v.weight", n_embd, n_kv));
    JARVIS_ASSIGN_OR_RETURN(l.wo, b.Matrix(p + "attn_output.weight", n_q, n_embd));
    if (hp->arch == ModelArch::kQwen2) {
      JARVIS_ASSIGN_OR_RETURN(l.bq, b.Vector(p + "attn_q.bias", n_q));
      JARVIS_ASSIGN_OR_RETURN(l.bk, b.Vector(p + "attn_k.bias", n_kv));
      JARVIS_ASSIGN_OR_RETURN(l.bv, b.Vector(p + "attn_v.bias", n_kv));
    }
    JARVIS_ASSIGN_OR_RETURN(l.ffn_norm, b.Vector(p + "ffn_norm.weight", n_embd));
    JARVIS_ASSIGN_OR_RETURN(l.w_gate, b.Matrix(p + "ffn_gate.weight", n_embd, hp->n_ff));
    JARVIS_ASSIGN_OR_RETURN(l.w_up, b.Matrix(p + "ffn_up.weight", n_embd, hp->n_ff));
    JARVIS_ASSIGN_OR_RETURN(l.w_down, b.Matrix(p + "ffn_down.weight", hp->n_ff, n_embd));
  }
  return w;
}

}  // namespace jarvis
