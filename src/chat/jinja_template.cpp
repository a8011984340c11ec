#include "chat/jinja_template.h"

namespace jarvis::jinja {

Result<Template> Template::Parse(std::string_view source, const LexOptions& options) {
  try {
    Template t;
    t.body_ = std::make_shared<const Body>(ParseTemplate(source, options));
    return t;
  } catch (const JinjaError& e) {
    return Status::InvalidArgument(e.what());
  }
}

Result<std::string> Template::Render(const nlohmann::ordered_json& variables, const RenderOptions& options) const {
  if (!variables.is_object()) return Status::InvalidArgument("template variables must be a JSON object");
  try {
    Interpreter interp(options.limits, options.clock);
    return interp.Render(*body_, Value::FromJson(variables));
  } catch (const JinjaError& e) {
    return Status::InvalidArgument(e.what());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("template rendering ran out of memory");
  }
}

}  // namespace jarvis::jinja
