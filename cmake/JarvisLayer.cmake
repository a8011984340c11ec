# jarvis_layer(NAME DEPS ...): builds src/<dir>/*.cpp (except *_test.cpp) into the
# static library jarvis_<NAME>, and src/<dir>/*_test.cpp into test binary
# <NAME>_tests registered with CTest. The layers are internal: their include
# directories (src/, generated/) exist only in the build tree, never in an
# install (the installed library is cmake/JarvisLibrary.cmake's).
function(jarvis_layer name)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  file(GLOB_RECURSE tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  if(tests)
    list(REMOVE_ITEM srcs ${tests})
  endif()
  if(srcs)
    add_library(jarvis_${name} STATIC ${srcs})
    target_include_directories(jarvis_${name} PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>)
    target_link_libraries(jarvis_${name} PUBLIC ${ARG_DEPS} PRIVATE jarvis_warnings)
  else()  # a layer with headers only (so far)
    add_library(jarvis_${name} INTERFACE)
    target_include_directories(jarvis_${name} INTERFACE
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>)
    target_link_libraries(jarvis_${name} INTERFACE ${ARG_DEPS})
  endif()
  if(JARVIS_BUILD_TESTS AND tests)
    add_executable(${name}_tests ${tests})
    target_link_libraries(${name}_tests PRIVATE jarvis_${name} jarvis_test_support
      ${ARG_TEST_DEPS} GTest::gtest GTest::gmock GTest::gtest_main jarvis_warnings)
    gtest_discover_tests(${name}_tests
      PROPERTIES ENVIRONMENT "JARVIS_SHARED_DIR=${JARVIS_SHARED_DIR}"
      DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
