// The avx512 matmul kernels: the ISA-independent kernel sources compiled with
// this file's flags (src/kernels/CMakeLists.txt), in their own namespace.
#include "kernels/cpu/simd_avx512.h"  // first: see its note on warnings
#include "kernels/cpu/matmul_isa.h"

namespace jarvis::kernels_internal::avx512 {
namespace {
using V = V512;
#include "kernels/cpu/matmul_int8_impl.h"
#include "kernels/cpu/matmul_int8_more_impl.h"
#include "kernels/cpu/matmul_int8_low_impl.h"
#include "kernels/cpu/matmul_float_impl.h"
}  // namespace

#include "kernels/cpu/matmul_entry_impl.h"

}  // namespace jarvis::kernels_internal::avx512
