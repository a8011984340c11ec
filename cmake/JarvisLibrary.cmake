# libjarvis: the installable library behind include/jarvis/ (target
# jarvis::jarvis).
#
# One shared library holds every layer (linked in from their static, position-
# independent archives). Only the public API is exported (cmake/jarvis.map):
# the internal layers and the third-party code they use (fmt, spdlog, PCRE2's
# and xxHash's callers, Boost.Beast, nlohmann::json) stay hidden inside, so a
# consumer needs none of their headers or CMake packages, and a program may
# use its own versions of them. The public headers include nothing but the
# C++ standard library.
#
# Consumers:
#   find_package(jarvis CONFIG REQUIRED)      target_link_libraries(app PRIVATE jarvis::jarvis)
#   add_subdirectory(jarvis) / FetchContent   target_link_libraries(app PRIVATE jarvis::jarvis)
#   pkg-config --cflags --libs jarvis
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

add_library(jarvis_lib SHARED ${PROJECT_SOURCE_DIR}/src/library/version.cpp)
add_library(jarvis::jarvis ALIAS jarvis_lib)
# Every object of the runtime facade goes in (nothing references them inside
# the library); the layers below are pulled in as the facade needs them.
target_link_libraries(jarvis_lib PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,jarvis_runtime>" jarvis_warnings)
target_include_directories(jarvis_lib PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(jarvis_lib PUBLIC cxx_std_20)
set(_jarvis_map "${PROJECT_SOURCE_DIR}/cmake/jarvis.map")
target_link_options(jarvis_lib PRIVATE "LINKER:--version-script=${_jarvis_map}" "LINKER:--no-undefined")
set_target_properties(jarvis_lib PROPERTIES
  OUTPUT_NAME jarvis
  EXPORT_NAME jarvis
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
  LINK_DEPENDS "${_jarvis_map}"
  LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/lib")

# Each public header compiles on its own (a build-time check: one translation
# unit per header, with the project's warnings).
if(JARVIS_BUILD_TESTS)
  file(GLOB _jarvis_public_headers CONFIGURE_DEPENDS RELATIVE "${PROJECT_SOURCE_DIR}/include"
    "${PROJECT_SOURCE_DIR}/include/jarvis/*.h")
  set(_check_srcs "")
  foreach(h IN LISTS _jarvis_public_headers)
    string(MAKE_C_IDENTIFIER "${h}" id)
    set(src "${PROJECT_BINARY_DIR}/header_check/${id}.cpp")
    file(CONFIGURE OUTPUT "${src}" CONTENT "#include \"${h}\"  // must compile alone\n")
    list(APPEND _check_srcs "${src}")
  endforeach()
  add_library(jarvis_public_header_check OBJECT ${_check_srcs})
  # Only the public include directory: a header reaching into src/ fails here.
  target_include_directories(jarvis_public_header_check PRIVATE "${PROJECT_SOURCE_DIR}/include")
  target_link_libraries(jarvis_public_header_check PRIVATE jarvis_warnings)
endif()

if(JARVIS_INSTALL)
  install(TARGETS jarvis_lib EXPORT jarvisTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/jarvis" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h")
  install(TARGETS jarvis RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  set(_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/jarvis")
  install(EXPORT jarvisTargets NAMESPACE jarvis:: FILE jarvisTargets.cmake DESTINATION ${_cmake_dir})
  configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/jarvisConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/jarvisConfig.cmake" INSTALL_DESTINATION ${_cmake_dir})
  write_basic_package_version_file("${PROJECT_BINARY_DIR}/jarvisConfigVersion.cmake"
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES "${PROJECT_BINARY_DIR}/jarvisConfig.cmake" "${PROJECT_BINARY_DIR}/jarvisConfigVersion.cmake"
    DESTINATION ${_cmake_dir})
  configure_file("${PROJECT_SOURCE_DIR}/cmake/jarvis.pc.in" "${PROJECT_BINARY_DIR}/jarvis.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/jarvis.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
