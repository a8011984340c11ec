# Warnings for the project's own targets (not third-party headers).
add_library(jarvis_warnings INTERFACE)
target_compile_options(jarvis_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${JARVIS_WERROR}>:-Werror>)
