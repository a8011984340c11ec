// Memory bandwidth of this machine, measured like STREAM's triad
// (a[i] = b[i] + s * c[i]) so that `jarvis bench` can say how close decode
// comes to the bandwidth roofline.
#pragma once

#include <cstddef>

namespace jarvis::cli {

// Best of `reps` triads over three arrays of `bytes_per_array` bytes each,
// split over `threads` threads; counts 3 arrays of traffic per pass (the
// STREAM convention), in GB/s (1e9 bytes). 0 when allocation fails.
double MeasureTriadBandwidth(size_t bytes_per_array, int threads, int reps);

}  // namespace jarvis::cli
