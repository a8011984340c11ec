// jarvis: local LLM inference server and CLI. Subcommands are wired here; each
// lives in its own cmd_*.cpp.
#include <spdlog/sinks/stdout_color_sinks.h>  // also declares stderr_color_mt
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "cli/version.h"

int main(int argc, char** argv) {
  // Log lines (warnings such as a GPU fallback, the server's info) go to
  // stderr: stdout carries the commands' output (generated text, tables, JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("jarvis"));
  jarvis::cli::ApplyKernelsEnv();
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, which
  // the writers report and clean up after, instead of SIGXFSZ killing the
  // process with a half-written temp file left behind.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"jarvis: local LLM inference server and library", "jarvis"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", [] { return jarvis::cli::VersionText(); },
                       "Print version, commit, compiler and CPU features");

  jarvis::cli::RegisterInspect(app);
  jarvis::cli::RegisterSynth(app);
  jarvis::cli::RegisterQuantize(app);
  jarvis::cli::RegisterRun(app);
  jarvis::cli::RegisterPerplexity(app);
  jarvis::cli::RegisterBench(app);
  jarvis::cli::RegisterBenchServe(app);
  jarvis::cli::RegisterTokenize(app);
  jarvis::cli::RegisterEmbed(app);
  jarvis::cli::RegisterLogits(app);
  jarvis::cli::RegisterServe(app);
  jarvis::cli::RegisterDoctor(app);
  jarvis::cli::RegisterTemplate(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command failed and already said why
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // 0 for --help/--version
    return code == 0 ? 0 : jarvis::cli::kExitUsageError;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
  }
  return 0;
}
