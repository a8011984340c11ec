// Option and loading helpers shared by the subcommands.
#include "cli/commands.h"
#include "model/model.h"

namespace jarvis::cli {

CLI::Option* AddKvTypeOption(CLI::App* cmd, std::string* kv_type) {
  return cmd->add_option("--kv-type", *kv_type, "KV cache type: f16 or f32")
      ->check(CLI::IsMember({"f16", "f32"}))
      ->capture_default_str();
}

std::unique_ptr<Model> LoadModelOrFail(const std::string& path) {
  auto model = Model::Load(path);
  if (!model.ok()) Fail(model.status());
  return std::move(model).value();
}

}  // namespace jarvis::cli
