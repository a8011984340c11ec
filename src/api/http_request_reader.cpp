#include "api/http_request_reader.h"

#include <string>
#include <utility>

#include <boost/beast/http/error.hpp>

namespace jarvis::api {

namespace beast = boost::beast;
namespace http = beast::http;

HttpRequestReader::HttpRequestReader(const ServerOptions& options) : options_(options) {
  on_chunk_header_ = [this](uint64_t, beast::string_view, beast::error_code& ec) {
    if (++chunks_ > options_.max_chunks) {
      too_many_chunks_ = true;
      ec = http::error::body_limit;
    }
  };
}

beast::flat_buffer HttpRequestReader::MakeBuffer() const {
  return beast::flat_buffer(2 * static_cast<size_t>(options_.max_header_bytes));
}

HttpRequestReader::Parser& HttpRequestReader::Reset() {
  parser_.emplace();
  parser_->body_limit(options_.max_body_bytes);
  parser_->header_limit(options_.max_header_bytes);
  parser_->on_chunk_header(on_chunk_header_);
  chunks_ = 0;
  too_many_chunks_ = false;
  return *parser_;
}

std::optional<ApiError> HttpRequestReader::ErrorFor(beast::error_code ec) const {
  if (too_many_chunks_) {
    return ApiError{413, "chunked request body has more than " + std::to_string(options_.max_chunks) + " chunks",
                    "invalid_request_error", "payload_too_large"};
  }
  if (ec == http::error::body_limit) {
    return ApiError{413, "request body exceeds the limit of " + std::to_string(options_.max_body_bytes) + " bytes",
                    "invalid_request_error", "payload_too_large"};
  }
  if (ec == http::error::header_limit) {
    return ApiError{431, "request headers too large", "invalid_request_error", "headers_too_large"};
  }
  if (ec == http::error::buffer_overflow) {
    return ApiError{431,
                    "request header, chunk header or trailer longer than " +
                        std::to_string(2 * static_cast<size_t>(options_.max_header_bytes)) + " bytes",
                    "invalid_request_error", "headers_too_large"};
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;  // client gone
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
    return BadRequest("malformed HTTP request: " + ec.message(), "bad_http");
  }
  return std::nullopt;  // socket errors: reset, aborted, ...
}

std::variant<ApiRequest, ApiError> HttpRequestReader::TakeRequest(bool* head_only) {
  auto& req = parser_->get();
  if (req.target().size() > options_.max_target_bytes) {
    return ApiError{414, "request target longer than " + std::to_string(options_.max_target_bytes) + " bytes",
                    "invalid_request_error", "uri_too_long"};
  }
  ApiRequest request;
  request.method = std::string(req.method_string());
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  request.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
  for (const auto& field : req) request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  request.body = std::move(req.body());
  *head_only = request.method == "HEAD";
  if (*head_only) request.method = "GET";
  return request;
}

}  // namespace jarvis::api
