// The avx2 row operations and attention: vector_ops_impl.h compiled with this
// file's flags (src/kernels/CMakeLists.txt), in its own namespace.
#include "kernels/cpu/simd_avx2.h"  // first: see simd_avx512.h on warnings
#include "kernels/cpu/ops_isa.h"
#include "quant/blocks.h"

#include <cstring>

namespace jarvis::kernels_internal::avx2 {
namespace {
using V = V256;
#include "kernels/cpu/vector_ops_impl.h"
}  // namespace

#include "kernels/cpu/ops_entry_impl.h"

}  // namespace jarvis::kernels_internal::avx2
