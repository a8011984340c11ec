# The optional CUDA backend (src/kernels/cuda/*.cu + src/gpu/).
#
# JARVIS_CUDA: AUTO (default) builds it when a CUDA compiler is found, ON
# requires one, OFF never builds it. nvcc is looked up on PATH, then in
# /usr/local/cuda/bin (and $CUDA_PATH/bin), so a CI machine with the toolkit
# but without nvcc on PATH still compiles the CUDA code.
#
# The CUDA code is built for sm_80 and sm_90 (SASS) plus compute_90 PTX, which
# the driver JIT-compiles for newer GPUs. The CUDA runtime is linked
# statically and nothing links libcuda or cuBLAS: a jarvis binary built here
# starts on a machine without a driver or GPU, where the runtime reports "no
# driver"/"no device" and the engine stays on the CPU.
#
# Sets JARVIS_CUDA_ENABLED (ON/OFF) and, when ON, the target
# jarvis_cuda_kernels (static library of the .cu files, host launchers in
# kernels/cuda/launchers.h).
set(JARVIS_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO, ON or OFF")
set_property(CACHE JARVIS_CUDA PROPERTY STRINGS AUTO ON OFF)

set(JARVIS_CUDA_ENABLED OFF)
if(NOT JARVIS_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(_jarvis_nvcc nvcc HINTS ENV CUDA_PATH PATH_SUFFIXES bin
      PATHS /usr/local/cuda/bin /usr/local/cuda /opt/cuda/bin)
    if(_jarvis_nvcc)
      set(CMAKE_CUDA_COMPILER "${_jarvis_nvcc}" CACHE FILEPATH "CUDA compiler")
    endif()
  endif()
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES "80-real;90-real;90-virtual")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(JARVIS_CUDA_ENABLED ON)
  elseif(JARVIS_CUDA STREQUAL "ON")
    message(FATAL_ERROR "JARVIS_CUDA=ON but no working CUDA compiler was found "
      "(put nvcc on PATH or pass -DCMAKE_CUDA_COMPILER=/path/to/nvcc)")
  endif()
endif()

if(JARVIS_CUDA_ENABLED)
  # C++17: CMake 3.25 does not know nvcc 13's C++20 dialect flag; the .cu files need no more.
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  set(CMAKE_CUDA_EXTENSIONS OFF)
  set(CMAKE_CUDA_RUNTIME_LIBRARY Static)
  message(STATUS "jarvis: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
    "architectures ${CMAKE_CUDA_ARCHITECTURES})")

  file(GLOB _jarvis_cu_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/kernels/cuda/*.cu)
  add_library(jarvis_cuda_kernels STATIC ${_jarvis_cu_srcs})
  target_include_directories(jarvis_cuda_kernels PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  # Host-compiler warnings go through -Xcompiler (jarvis_warnings' flags are
  # g++ flags that nvcc itself does not accept); nvcc's own warnings too.
  target_compile_options(jarvis_cuda_kernels PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr -lineinfo
      $<$<BOOL:${JARVIS_WERROR}>:-Werror=all-warnings>>)
  target_link_libraries(jarvis_cuda_kernels PUBLIC CUDA::cudart_static)
  set_target_properties(jarvis_cuda_kernels PROPERTIES
    CUDA_RUNTIME_LIBRARY Static POSITION_INDEPENDENT_CODE OFF)
else()
  message(STATUS "jarvis: CUDA backend OFF (JARVIS_CUDA=${JARVIS_CUDA}; no CUDA compiler found or disabled)")
endif()
