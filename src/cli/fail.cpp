#include <iostream>

#include "cli/commands.h"

namespace jarvis::cli {

void Fail(std::string_view message, int code) {
  std::cerr << "jarvis: error: " << message << std::endl;
  throw CLI::RuntimeError(code);
}

void Fail(const Status& status) {
  Fail(status.message(), status.code() == StatusCode::kInvalidArgument ? kExitUsageError
                                                                       : kExitRuntimeError);
}

}  // namespace jarvis::cli
