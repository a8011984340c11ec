// A libFuzzer-less driver for http_fuzz.cpp (CTest http_fuzz_smoke): replays
// every file of a corpus directory, then deterministic mutations of them
// (byte flips, insertions of HTTP/JSON tokens, deletions, duplications,
// splices) until SECONDS have passed. Not a substitute for the coverage-guided
// run (scripts/fuzz http), but it keeps the harness and the seeds working in
// every build and catches regressions on the seeds' neighbourhood.
//
//   http_fuzz_smoke CORPUS_DIR [SECONDS]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

const char* const kTokens[] = {"\r\n",      "\r\n\r\n", "Transfer-Encoding: chunked\r\n", "Content-Length: ",
                               "0\r\n\r\n", "ffffffff", "{",  "}", "[", "]", "\"", "\\u0000", "null", "-1",
                               "1e999",     ":",        ",",  "Expect: 100-continue\r\n", "Connection: close\r\n",
                               "\"stream\":true", "\"max_tokens\":", "\"messages\":[", "%00", "/../"};

std::string Mutate(std::string s, const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < steps; ++i) {
    const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 6) {
      case 0:
        if (!s.empty()) s[at % s.size()] = static_cast<char>(s[at % s.size()] ^ (1 << (rng() % 8)));
        break;
      case 1:
        s.insert(at, kTokens[rng() % std::size(kTokens)]);
        break;
      case 2:
        s.erase(at, rng() % 16);
        break;
      case 3: {  // duplicate a slice, sometimes many times (long fields, deep nesting)
        const size_t len = 1 + rng() % 8;
        const std::string slice = s.substr(at, len);
        const size_t times = rng() % 4 == 0 ? 1 + rng() % 20000 : 1 + rng() % 8;
        std::string rep;
        for (size_t k = 0; k < times; ++k) rep += slice;
        s.insert(at, rep);
        break;
      }
      case 4: {  // splice the tail of another seed
        const std::string& other = seeds[rng() % seeds.size()];
        s = s.substr(0, at) + other.substr(other.empty() ? 0 : rng() % other.size());
        break;
      }
      default:
        s.insert(at, 1, static_cast<char>(rng() % 256));
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [SECONDS]\n", argv[0]);
    return 2;
  }
  const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
  std::vector<std::string> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    std::string bytes(static_cast<size_t>(std::filesystem::file_size(entry.path())), '\0');
    std::ifstream in(entry.path(), std::ios::binary);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    seeds.push_back(std::move(bytes));
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no seeds in %s\n", argv[1]);
    return 2;
  }
  auto run = [](const std::string& s) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  for (const auto& s : seeds) run(s);
  std::mt19937_64 rng(17);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  uint64_t runs = seeds.size();
  while (std::chrono::steady_clock::now() < end) {
    run(Mutate(seeds[rng() % seeds.size()], seeds, rng));
    ++runs;
  }
  std::printf("http_fuzz_smoke: %zu seeds, %llu inputs, no finding\n", seeds.size(),
              static_cast<unsigned long long>(runs));
  return 0;
}
