#include "kernels/cpu/isa.h"

#include <gtest/gtest.h>

namespace jarvis {
namespace {

TEST(KernelIsa, NamesRoundTrip) {
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512, KernelIsa::kAmx}) {
    EXPECT_EQ(KernelIsaFromName(KernelIsaName(isa)), isa);
  }
  EXPECT_FALSE(KernelIsaFromName("sse9").has_value());
}

TEST(KernelIsa, ResolveHonoursSupportedRequests) {
  EXPECT_EQ(ResolveKernelIsa(nullptr), BestKernelIsa());
  EXPECT_EQ(ResolveKernelIsa(""), BestKernelIsa());
  EXPECT_EQ(ResolveKernelIsa("scalar"), KernelIsa::kScalar);
  EXPECT_EQ(ResolveKernelIsa("bogus"), BestKernelIsa());
  for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512, KernelIsa::kAmx}) {
    EXPECT_EQ(ResolveKernelIsa(KernelIsaName(isa)), CpuSupportsIsa(isa) ? isa : BestKernelIsa());
  }
}

TEST(KernelIsa, ScopedPinRestores) {
  const KernelIsa before = ActiveKernelIsa();
  {
    ScopedKernelIsa pin(KernelIsa::kScalar);
    ASSERT_TRUE(pin.ok());
    EXPECT_EQ(ActiveKernelIsa(), KernelIsa::kScalar);
  }
  EXPECT_EQ(ActiveKernelIsa(), before);
  for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512, KernelIsa::kAmx}) {
    if (CpuSupportsIsa(isa)) continue;
    ScopedKernelIsa pin(isa);  // refused: nothing changes
    EXPECT_FALSE(pin.ok());
    EXPECT_EQ(ActiveKernelIsa(), before);
    EXPECT_FALSE(SetKernelIsa(isa).ok());
  }
}

}  // namespace
}  // namespace jarvis
