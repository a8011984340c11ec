// stream MODEL: prints the text as it is generated (the pull stream), then
// cancels a second request after its fifth token.
#include <jarvis/runtime.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: stream MODEL.gguf\n";
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
  request.messages = {{"user", "Tell me a story about a cat."}};  // rendered with the model's chat template
  request.max_tokens = 48;
  request.sampling.temperature = 0;
  auto handle = (*runtime)->Submit(request);
  if (!handle.ok()) {
    std::cerr << handle.status().ToString() << "\n";
    return 1;
  }
  jarvis::TokenEvent event;
  while (handle->Next(&event)) std::cout << event.text << std::flush;
  const jarvis::GenerateResult done = handle->Wait();
  std::cout << "\n[" << jarvis::FinishReasonName(done.finish) << "]\n";

  // Cancelling: the request stops at the scheduler's next step and frees its KV.
  request.max_tokens = 200;
  auto second = (*runtime)->Submit(request);
  if (!second.ok()) return 1;
  int pieces = 0;
  while (second->Next(&event)) {
    if (++pieces == 5) second->Cancel();
  }
  const jarvis::GenerateResult cancelled = second->Wait();
  std::cout << "second request: " << cancelled.completion_tokens << " tokens, "
            << jarvis::FinishReasonName(cancelled.finish) << "\n";
  return cancelled.finish == jarvis::FinishReason::kCancelled ? 0 : 1;
}
