# JARVIS_BUNDLE_LIBS (preset gpu): binaries that run on a machine with only
# glibc. jarvis_bundle_libs(TARGET), called where TARGET is defined, copies, after each link, the shared
# libraries TARGET loads beyond glibc (spdlog, fmt, xxhash, pcre2, utf8proc, libstdc++,
# libgcc_s: Debian packages a bare GPU machine may lack) into <build>/lib, and
# links TARGET with an RPATH to that folder. DT_RPATH rather than RUNPATH
# (--disable-new-dtags): it also serves the libraries' own dependencies
# (libspdlog needs libfmt). CUDA is not among them: the runtime is static and
# opens the driver (libcuda.so.1) itself at run time.
#
# It also copies the one model gpu_tests loads (stories260K.gguf, 1.2 MiB, from
# JARVIS_SHARED_DIR) to <build>/shared/models, where scripts/gpu-check finds
# it: the GPU machine gets build/gpu/{jarvis,src/gpu/gpu_tests,lib,shared}.
option(JARVIS_BUNDLE_LIBS "Copy non-glibc shared libraries next to jarvis and gpu_tests (RPATH)" OFF)

if(JARVIS_BUNDLE_LIBS AND EXISTS "${JARVIS_SHARED_DIR}/models/stories260K.gguf")
  file(COPY "${JARVIS_SHARED_DIR}/models/stories260K.gguf" DESTINATION "${CMAKE_BINARY_DIR}/shared/models")
endif()

function(jarvis_bundle_libs target)
  get_target_property(out_dir ${target} RUNTIME_OUTPUT_DIRECTORY)
  if(NOT out_dir)
    get_target_property(out_dir ${target} BINARY_DIR)
  endif()
  file(RELATIVE_PATH rel "${out_dir}" "${CMAKE_BINARY_DIR}/lib")
  set_target_properties(${target} PROPERTIES BUILD_RPATH "\$ORIGIN/${rel}")
  target_link_options(${target} PRIVATE -Wl,--disable-new-dtags)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/bundle-libs $<TARGET_FILE:${target}> ${CMAKE_BINARY_DIR}/lib
    VERBATIM)
endfunction()
