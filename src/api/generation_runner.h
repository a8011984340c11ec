// RunGeneration: the shared life of one generation request, whatever its API:
// on the worker pool, resolve the model and make it ready (keep_alive; the
// time is Ollama's load_duration), submit; then stream every token piece to
// the client as it arrives, or answer once in on_complete. Both hooks run on
// the scheduler's thread and only format and post to the connection's strand,
// never blocking it. A client that disconnects cancels the request (on_token
// returns false, and the submission's cancel runs at once).
#pragma once

#include <memory>

#include "api/api_context.h"
#include "api/generation_format.h"
#include "api/generation_request.h"
#include "api/http_types.h"

namespace jarvis::api {

void RunGeneration(ApiContext& ctx, ParsedGeneration parsed, std::unique_ptr<GenerationFormat> format,
                   std::shared_ptr<ResponseSink> sink);

}  // namespace jarvis::api
