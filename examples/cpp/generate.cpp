// generate MODEL [PROMPT]: one blocking, greedy completion.
#include <jarvis/runtime.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: generate MODEL.gguf [PROMPT]\n";
    return 2;
  }
  jarvis::RuntimeOptions options;
  options.models = {argv[1]};
  auto runtime = jarvis::Runtime::Create(options);
  if (!runtime.ok()) {
    std::cerr << runtime.status().ToString() << "\n";
    return 1;
  }
  jarvis::GenerateRequest request;
  request.prompt = argc > 2 ? argv[2] : "Once upon a time";
  request.max_tokens = 32;
  request.sampling.temperature = 0;  // greedy: the same text every run
  auto result = (*runtime)->Generate(request);
  if (!result.ok()) {
    std::cerr << result.status().ToString() << "\n";
    return 1;
  }
  std::cout << request.prompt << result->text << "\n"
            << "[" << result->completion_tokens << " tokens, " << jarvis::FinishReasonName(result->finish) << ", "
            << result->timings.total_ms << " ms]\n";
  return 0;
}
