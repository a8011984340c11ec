// The CUDA matmul's own type switch (kernels/cuda/matmul.cu, compiled as
// C++17 and so outside the registry) against the registry's `cuda` flag.
// Needs no GPU: HasMatMulKernel is host code.
#include <gtest/gtest.h>

#include <cstdint>

#include "quant/ggml_type.h"
#include "quant/quant_types.h"

#if defined(JARVIS_HAVE_CUDA)
#include "kernels/cuda/launchers.h"
#endif

namespace jarvis {
namespace {

#if !defined(JARVIS_HAVE_CUDA)

TEST(CudaTypesTest, NotBuilt) { GTEST_SKIP() << "built without CUDA"; }

#else

TEST(CudaTypesTest, MatMulTypesAreTheRegistrys) {
  int n = 0;
  for (uint32_t id = 0; id < 64; ++id) {
    const GgmlTypeTraits* t = FindTypeTraits(id);
    if (t == nullptr) continue;
    EXPECT_EQ(cuda::HasMatMulKernel(t->type), IsCudaMatMulType(t->type)) << t->name;
    n += IsCudaMatMulType(t->type) ? 1 : 0;
  }
  EXPECT_GT(n, 0);
}

#endif

}  // namespace
}  // namespace jarvis
