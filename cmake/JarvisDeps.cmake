# Every dependency comes from Debian packages installed by scripts/bootstrap.
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)  # WordPiece normalization
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)  # the response cache's Redis level
if(JARVIS_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(JARVIS_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Where the tests find ../shared (test models and tokenizers).
set(JARVIS_SHARED_DIR "${PROJECT_SOURCE_DIR}/../shared" CACHE PATH "Directory with shared test assets")
