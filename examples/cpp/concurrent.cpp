// concurrent MODEL [N]: N requests submitted at once are batched by the
// scheduler (continuous batching); greedy results equal a solo run's.
#include <jarvis/runtime.h>

#include <chrono>
#include <future>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: concurrent MODEL.gguf [N]\n";
    return 2;
  }
  const int n = argc > 2 ? std::stoi(argv[2]) : 16;
  jarvis::RuntimeOptions options;
  options.models = {argv[1]};
  options.parallel = n;
  auto runtime = jarvis::Runtime::Create(options);
  if (!runtime.ok()) {
    std::cerr << runtime.status().ToString() << "\n";
    return 1;
  }
  auto make = [](int i) {
    jarvis::GenerateRequest r;
    r.prompt = "Story number " + std::to_string(i % 4) + ":";
    r.max_tokens = 24;
    r.sampling.temperature = 0;
    r.use_response_cache = false;  // compute every one
    return r;
  };
  // Solo references, one at a time.
  std::vector<std::string> solo;
  for (int i = 0; i < 4; ++i) {
    auto r = (*runtime)->Generate(make(i));
    if (!r.ok()) return 1;
    solo.push_back(r->text);
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::future<jarvis::GenerateResult>> futures;
  for (int i = 0; i < n; ++i) {
    auto handle = (*runtime)->Submit(make(i));
    if (!handle.ok()) {
      std::cerr << handle.status().ToString() << "\n";
      return 1;
    }
    futures.push_back(handle->TakeFuture());
  }
  int mismatches = 0;
  int tokens = 0;
  for (int i = 0; i < n; ++i) {
    const jarvis::GenerateResult r = futures[i].get();
    tokens += r.completion_tokens;
    if (r.text != solo[i % 4]) ++mismatches;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << n << " concurrent requests: " << tokens << " tokens in " << s << " s, " << mismatches
            << " differ from the solo run\n";
  return mismatches == 0 ? 0 : 1;
}
