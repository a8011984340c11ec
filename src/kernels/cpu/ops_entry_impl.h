// Entry points of ops_isa.h, included by each ops_*.cpp inside its ISA
// namespace after vector_ops_impl.h. (No #pragma once.)

void SiluMul(float* x, const float* y, int64_t n) { SiluMulImpl(x, y, n); }

void GeluTanhMul(float* x, const float* y, int64_t n) { GeluTanhMulImpl(x, y, n); }

void GeluTanh(float* x, int64_t n) { GeluTanhImpl(x, n); }

void Softmax(float* x, int64_t n) { SoftmaxImpl(x, n); }

// One instantiation per KV type, so the row reads in the hot loops are fixed
// at compile time.
template <KvType T>
void AttentionGroupPartialT(const float* q, int32_t n_heads, const KvRows& k, const KvRows& v, int32_t kv_head,
                           int32_t head_dim, int32_t p0, int32_t p1, float scale, float softcap, float* scores, float* m,
                           float* l, float* out) {
  const int64_t head_off = static_cast<int64_t>(kv_head) * head_dim;
  const int32_t n = p1 - p0;
  // head_dim in whole vectors, for the sizes models use (64 and 128 mostly;
  // 80 and 96 in Phi, 256 in Gemma); any other goes the generic way.
  const int nc = head_dim % kL != 0 ? 0 : head_dim / kL;
  const int group = static_cast<int>(n_heads);
  auto fixed = [&](auto nc_constant) {
    constexpr int kNc = decltype(nc_constant)::value;
    AttentionPartialFixed<kNc, T>(q, group, k, v, head_off, p0, p1, scale, softcap, scores, m, l, out);
  };
  switch (nc) {
    case 2:
      return fixed(std::integral_constant<int, 2>{});
    case 4:
      return fixed(std::integral_constant<int, 4>{});
    case 5:
      return fixed(std::integral_constant<int, 5>{});
    case 6:
      return fixed(std::integral_constant<int, 6>{});
    case 8:
      return fixed(std::integral_constant<int, 8>{});
    case 16:
      return fixed(std::integral_constant<int, 16>{});
    case 32:
      return fixed(std::integral_constant<int, 32>{});
    default:
      for (int g = 0; g < group; ++g) {
        AttentionPartialAny(q + g * head_dim, k, v, head_off, head_dim, p0, p1, scale, softcap, scores + g * n, m + g,
                            l + g, out + g * head_dim);
      }
  }
}

void AttentionGroupPartial(const float* q, int32_t n_heads, const KvRows& k, const KvRows& v, int32_t kv_head,
                           int32_t head_dim, int32_t p0, int32_t p1, float scale, float softcap, float* scores, float* m,
                           float* l, float* out) {
  switch (k.type) {  // v.type is the same: one layout holds both
    case KvType::kF32:
      return AttentionGroupPartialT<KvType::kF32>(q, n_heads, k, v, kv_head, head_dim, p0, p1, scale, softcap, scores,
                                                  m, l, out);
    case KvType::kF16:
      return AttentionGroupPartialT<KvType::kF16>(q, n_heads, k, v, kv_head, head_dim, p0, p1, scale, softcap, scores,
                                                  m, l, out);
    case KvType::kQ8_0:
      return AttentionGroupPartialT<KvType::kQ8_0>(q, n_heads, k, v, kv_head, head_dim, p0, p1, scale, softcap,
                                                   scores, m, l, out);
  }
}

void StoreKvRowF16(const float* src, int64_t n, uint16_t* dst) {
  int64_t i = 0;
  for (; i + kL <= n; i += kL) V::StoreF16(dst + i, V::LoadF32(src + i));
  if (i < n) {
    uint16_t tmp[kL];
    V::StoreF16(tmp, V::LoadF32Tail(src + i, static_cast<int>(n - i)));
    for (int64_t j = i; j < n; ++j) dst[j] = tmp[j - i];
  }
}

void AttentionDense(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride, int32_t n,
                    int32_t head_dim, float scale, float softcap, float* kt, float* scores, float* out,
                    int64_t out_stride) {
  AttentionDenseImpl(q, q_stride, k, v, kv_stride, n, head_dim, scale, softcap, kt, scores, out, out_stride);
}
