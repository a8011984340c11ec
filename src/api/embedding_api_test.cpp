// The embedding endpoints: request parsing (pure), reply bodies, and the
// routes end to end over HTTP against the fake backend (formats, base64,
// dimensions, each API's error format).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/embedding_request.h"
#include "api/embedding_response.h"
#include "api/http_server.h"
#include "api/http_test_client.h"
#include "api/testing_fake_backend.h"

namespace jarvis::api {
namespace {

using nlohmann::json;
using testing::Fetch;
using testing::HttpReply;

// Decodes standard base64 (test-side, written independently of the encoder).
std::vector<float> DecodeBase64Floats(const std::string& s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    acc = (acc << 6) | static_cast<uint32_t>(value(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  std::vector<float> out(bytes.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t u = 0;
    for (int k = 0; k < 4; ++k) u |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[4 * i + k])) << (8 * k);
    out[i] = std::bit_cast<float>(u);
  }
  return out;
}

TEST(EmbeddingRequestTest, OpenAiInputForms) {
  auto one = ParseOpenAiEmbedding(json{{"model", "m"}, {"input", "hello"}});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->request.texts, (std::vector<std::string>{"hello"}));
  EXPECT_EQ(one->request.model, "m");
  EXPECT_TRUE(one->request.truncate);
  EXPECT_FALSE(one->base64);

  auto many = ParseOpenAiEmbedding(json{{"input", {"a", "b"}}, {"encoding_format", "base64"}, {"dimensions", 8},
                                        {"user", "u1"}});
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ(many->request.texts.size(), 2u);
  EXPECT_TRUE(many->base64);
  EXPECT_EQ(many->request.dimensions, 8);

  auto ids = ParseOpenAiEmbedding(json{{"input", {1, 2, 3}}});
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->request.token_inputs, (std::vector<std::vector<int32_t>>{{1, 2, 3}}));
  auto nested = ParseOpenAiEmbedding(json{{"input", {{1, 2}, {3}}}, {"cache", false}});
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->request.token_inputs, (std::vector<std::vector<int32_t>>{{1, 2}, {3}}));
  EXPECT_FALSE(nested->request.use_response_cache);
}

TEST(EmbeddingRequestTest, OpenAiRejectsBadBodies) {
  const json bad[] = {
      json::object(),                                       // no input
      {{"input", ""}},                                      // empty string
      {{"input", json::array()}},                           // empty array
      {{"input", {"a", ""}}},                               // an empty item
      {{"input", {"a", 1}}},                                // mixed
      {{"input", {{1}, {}}}},                               // an empty token array
      {{"input", {-1}}},                                    // negative id
      {{"input", {1.5}}},                                   // not an id
      {{"input", 3}},                                       // a number
      {{"input", "a"}, {"encoding_format", "int8"}},        // unknown format
      {{"input", "a"}, {"dimensions", 0}},                  // dimensions < 1
      {{"input", "a"}, {"dimensions", "8"}},                // wrong type
      {{"input", "a"}, {"model", 3}},                       // wrong type
      {{"input", std::vector<std::string>(kMaxEmbedInputs + 1, "x")}},  // too many
  };
  for (const json& body : bad) {
    auto r = ParseOpenAiEmbedding(body);
    EXPECT_FALSE(r.ok()) << body.dump();
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << body.dump();
    }
  }
}

TEST(EmbeddingRequestTest, OllamaBodies) {
  auto embed = ParseOllamaEmbed(json{{"model", "m:latest"}, {"input", {"a", "b"}}, {"truncate", false},
                                     {"keep_alive", "5m"}, {"dimensions", 2}, {"options", {{"temperature", 0.5}}}});
  ASSERT_TRUE(embed.ok()) << embed.status().ToString();
  EXPECT_EQ(embed->request.model, "m");
  EXPECT_FALSE(embed->request.truncate);
  EXPECT_EQ(embed->request.dimensions, 2);
  ASSERT_TRUE(embed->keep_alive.has_value());
  EXPECT_EQ(embed->keep_alive->count(), 300);
  EXPECT_FALSE(ParseOllamaEmbed(json{{"input", {1, 2}}}).ok());  // Ollama takes text only
  auto with_ctx = ParseOllamaEmbed(json{{"input", "a"}, {"options", {{"num_ctx", 128}}}});
  ASSERT_TRUE(with_ctx.ok()) << with_ctx.status().ToString();
  EXPECT_EQ(with_ctx->request.context, 128);
  EXPECT_FALSE(ParseOllamaEmbed(json{{"input", "a"}, {"options", {{"num_ctx", 0}}}}).ok());
  EXPECT_FALSE(ParseOllamaEmbed(json{{"input", "a"}, {"options", {{"num_ctx", "big"}}}}).ok());
  EXPECT_FALSE(ParseOllamaEmbed(json{{"input", "a"}, {"truncate", "yes"}}).ok());
  EXPECT_FALSE(ParseOllamaEmbed(json{{"input", "a"}, {"keep_alive", json::array()}}).ok());
  EXPECT_FALSE(ParseOllamaEmbed(json{{"model", "m"}}).ok());

  auto legacy = ParseOllamaEmbeddings(json{{"model", "m"}, {"prompt", "hi"}});
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->request.texts, (std::vector<std::string>{"hi"}));
  auto load = ParseOllamaEmbeddings(json{{"model", "m"}});
  ASSERT_TRUE(load.ok());
  EXPECT_TRUE(load->load_only);
}

TEST(EmbeddingResponseTest, Base64IsLittleEndianFloat32) {
  const std::vector<float> v = {1.0f, -0.5f, 3.25f, 1e-7f, 0.0f};
  EXPECT_EQ(Base64Floats(std::vector<float>{1.0f}), "AACAPw==");  // 0x3f800000, little-endian
  EXPECT_EQ(DecodeBase64Floats(Base64Floats(v)), v);
  EXPECT_EQ(Base64Floats({}), "");
}

class EmbeddingHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.port = 0;
    auto s = HttpServer::Start(options, backend_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    server_->SetReady(true);
    port_ = server_->port();
  }
  void TearDown() override {
    if (server_) server_->Stop(std::chrono::milliseconds(500));
  }
  HttpReply Post(const std::string& path, const json& body) { return Fetch(port_, "POST", path, body.dump()); }
  static json Body(const HttpReply& r) { return json::parse(r.body, nullptr, false); }

  testing::FakeBackend backend_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(EmbeddingHttpTest, OpenAiFloatAndBase64AgreeAndUsageCountsTokens) {
  HttpReply f = Post("/v1/embeddings", {{"model", "fake"}, {"input", {"abc", "hello"}}});
  ASSERT_EQ(f.status, 200) << f.body;
  json j = Body(f);
  EXPECT_EQ(j["object"], "list");
  EXPECT_EQ(j["model"], "fake");
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][1]["object"], "embedding");
  EXPECT_EQ(j["data"][1]["index"], 1);
  EXPECT_EQ(j["data"][1]["embedding"].get<std::vector<float>>(), (std::vector<float>{5, 1, 0.25f, -1}));
  EXPECT_EQ(j["usage"]["prompt_tokens"], 8);
  EXPECT_EQ(j["usage"]["total_tokens"], 8);

  HttpReply b = Post("/v1/embeddings", {{"model", "fake"}, {"input", {"abc", "hello"}}, {"encoding_format", "base64"}});
  ASSERT_EQ(b.status, 200) << b.body;
  json jb = Body(b);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(jb["data"][i]["embedding"].is_string());
    EXPECT_EQ(DecodeBase64Floats(jb["data"][i]["embedding"]), j["data"][i]["embedding"].get<std::vector<float>>());
  }
}

TEST_F(EmbeddingHttpTest, DimensionsAndTruncateReachTheBackend) {
  HttpReply r = Post("/v1/embeddings", {{"input", "abc"}, {"dimensions", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["data"][0]["embedding"].size(), 2u);
  EXPECT_EQ(backend_.last_embed().dimensions, 2);
  HttpReply o = Post("/api/embed", {{"model", "fake"}, {"input", "abc"}, {"truncate", false}});
  ASSERT_EQ(o.status, 200) << o.body;
  EXPECT_FALSE(backend_.last_embed().truncate);
  EXPECT_EQ(backend_.last_embed().context, 0);
  // Ollama's options.num_ctx: this request's context (both Ollama routes).
  o = Post("/api/embed", {{"model", "fake"}, {"input", "abc"}, {"options", {{"num_ctx", 64}}}});
  ASSERT_EQ(o.status, 200) << o.body;
  EXPECT_EQ(backend_.last_embed().context, 64);
  o = Post("/api/embeddings", {{"model", "fake"}, {"prompt", "abc"}, {"options", {{"num_ctx", 32}}}});
  ASSERT_EQ(o.status, 200) << o.body;
  EXPECT_EQ(backend_.last_embed().context, 32);
}

TEST_F(EmbeddingHttpTest, ShowListsEmbeddingForEncodersAndCompletionForDecoders) {
  HttpReply r = Post("/api/show", {{"model", "fake-bert"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["capabilities"], json::array({"embedding"}));
  r = Post("/api/show", {{"model", "fake"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json caps = Body(r)["capabilities"];
  EXPECT_NE(std::find(caps.begin(), caps.end(), "completion"), caps.end()) << caps;
  EXPECT_EQ(std::find(caps.begin(), caps.end(), "embedding"), caps.end()) << caps;
}

TEST_F(EmbeddingHttpTest, OllamaEmbedAndLegacyReplies) {
  HttpReply r = Post("/api/embed", {{"model", "fake"}, {"input", {"ab", "c"}}, {"keep_alive", 30}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["model"], "fake");
  ASSERT_EQ(j["embeddings"].size(), 2u);
  EXPECT_EQ(j["embeddings"][0].get<std::vector<float>>(), (std::vector<float>{2, 0, 0.25f, -1}));
  EXPECT_EQ(j["prompt_eval_count"], 3);
  EXPECT_TRUE(j["total_duration"].is_number_integer());
  EXPECT_TRUE(j["load_duration"].is_number_integer());
  EXPECT_GE(j["total_duration"].get<int64_t>(), j["load_duration"].get<int64_t>());
  ASSERT_TRUE(backend_.last_keep_alive().has_value());
  EXPECT_EQ(backend_.last_keep_alive()->count(), 30);

  HttpReply legacy = Post("/api/embeddings", {{"model", "fake"}, {"prompt", "abcd"}});
  ASSERT_EQ(legacy.status, 200) << legacy.body;
  EXPECT_EQ(Body(legacy)["embedding"].get<std::vector<float>>(), (std::vector<float>{4, 0, 0.25f, -1}));
  HttpReply load = Post("/api/embeddings", {{"model", "fake"}});
  ASSERT_EQ(load.status, 200) << load.body;
  EXPECT_EQ(Body(load)["embedding"], json::array());
}

TEST_F(EmbeddingHttpTest, ErrorsAreJsonInEachApisFormat) {
  // OpenAI: {"error": {"message", "type", "code"}}.
  const std::pair<json, int> openai[] = {
      {{{"input", ""}}, 400},
      {{{"input", {1, "a"}}}, 400},
      {{{"model", "missing"}, {"input", "a"}}, 404},
      {{{"model", "busy"}, {"input", "a"}}, 429},
      {{{"input", std::string(100, 'x')}}, 200},  // truncated (OpenAI's default here)
  };
  for (const auto& [body, status] : openai) {
    HttpReply r = Post("/v1/embeddings", body);
    EXPECT_EQ(r.status, status) << body.dump() << " -> " << r.body;
    if (status != 200) {
      EXPECT_TRUE(Body(r)["error"]["message"].is_string()) << r.body;
    }
  }
  HttpReply not_json = Fetch(port_, "POST", "/v1/embeddings", "{oops");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_TRUE(Body(not_json)["error"].is_object()) << not_json.body;
  // Ollama: {"error": "message"}.
  const std::pair<json, int> ollama[] = {
      {{{"model", "fake"}, {"input", json::array()}}, 400},
      {{{"model", "fake"}, {"input", std::string(100, 'x')}, {"truncate", false}}, 400},
      {{{"model", "missing"}, {"input", "a"}}, 404},
      {{{"model", "fake"}, {"input", "a"}, {"options", {{"num_ctx", -8}}}}, 400},
  };
  for (const auto& [body, status] : ollama) {
    HttpReply r = Post("/api/embed", body);
    EXPECT_EQ(r.status, status) << body.dump() << " -> " << r.body;
    EXPECT_TRUE(Body(r)["error"].is_string()) << r.body;
  }
  HttpReply long_input = Post("/api/embed", {{"model", "fake"}, {"input", std::string(100, 'x')}, {"truncate", false}});
  EXPECT_NE(long_input.body.find("100"), std::string::npos) << long_input.body;
  EXPECT_NE(long_input.body.find("64"), std::string::npos) << long_input.body;
  HttpReply legacy = Post("/api/embeddings", {{"model", "fake"}, {"prompt", 7}});
  EXPECT_EQ(legacy.status, 400);
  EXPECT_TRUE(Body(legacy)["error"].is_string()) << legacy.body;
}

TEST_F(EmbeddingHttpTest, CacheHitIsMarked) {
  HttpReply r = Post("/v1/embeddings", {{"model", "cached"}, {"input", "a"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-jarvis-cache"), "hit");
  EXPECT_EQ(Post("/v1/embeddings", {{"model", "fake"}, {"input", "a"}}).Header("x-jarvis-cache"), "miss");
}

}  // namespace
}  // namespace jarvis::api
