// The avx512 row operations and attention: vector_ops_impl.h compiled with this
// file's flags (src/kernels/CMakeLists.txt), in its own namespace.
#include "kernels/cpu/simd_avx512.h"  // first: see simd_avx512.h on warnings
#include "kernels/cpu/ops_isa.h"
#include "quant/blocks.h"

#include <cstring>

namespace jarvis::kernels_internal::avx512 {
namespace {
using V = V512;
#include "kernels/cpu/vector_ops_impl.h"
}  // namespace

#include "kernels/cpu/ops_entry_impl.h"

}  // namespace jarvis::kernels_internal::avx512
