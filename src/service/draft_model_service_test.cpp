// The service's draft model (service/draft_model_loader.h): loaded at Create
// and shared by the generating models, which draft with it and answer as
// without it; an embedding model beside them is left alone (its WordPiece
// vocabulary is no reason to refuse the draft, and it still embeds); a draft
// whose vocabulary differs from a generating model's fails Create, naming it.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "service/service.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

class DraftModelServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("jarvis_draft_service_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    fs::copy_file(test::StoriesModelPath(), dir_ / "stories.gguf");
    test::TinyModelSpec encoder;
    encoder.arch = "bert";
    encoder.pooling = 1;
    ASSERT_TRUE(test::WriteTinyModel(encoder, (dir_ / "embedder.gguf").string()).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  ServiceOptions Options(const std::string& draft) const {
    ServiceOptions o;
    o.model_paths = {dir_.string()};
    o.default_model = "stories";
    o.scheduler.n_threads = 1;
    o.scheduler.n_ctx = 256;
    o.scheduler.max_sequences = 2;
    o.cache_ttl = std::chrono::seconds(0);
    o.draft_model_path = draft;
    if (!draft.empty()) o.scheduler.speculation.mode = "draft";
    return o;
  }

  static GenerateResult Generate(Service& svc) {
    GenerateRequest r;
    r.prompt = "Once upon a time";
    r.max_tokens = 40;
    r.sampling.temperature = 0.0f;
    auto h = svc.Submit(r);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? h->Wait() : GenerateResult{};
  }

  fs::path dir_;
};

TEST_F(DraftModelServiceTest, GeneratingModelsDraftAndEmbeddingModelsStillEmbed) {
  auto plain = Service::Create(Options(""));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  const GenerateResult expected = Generate(**plain);
  auto made = Service::Create(Options(test::StoriesModelPath()));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const GenerateResult drafted = Generate(**made);
  EXPECT_EQ(drafted.text, expected.text);
  EXPECT_GT(drafted.draft_tokens, 0);
  EXPECT_EQ(drafted.accepted_draft_tokens, drafted.draft_tokens);  // its own greedy drafts
  EmbedRequest e;
  e.model = "embedder";
  e.texts = {"hello world"};
  auto h = (*made)->SubmitEmbed(e);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  const EmbedResult embedded = h->Wait();
  EXPECT_TRUE(embedded.error.ok()) << embedded.error.ToString();
  EXPECT_EQ(embedded.embeddings.size(), 1u);
}

TEST_F(DraftModelServiceTest, ADraftWithAnotherVocabularyFailsCreateNamingTheModel) {
  const std::string other = (dir_ / "other.gguf.tmp").string();  // outside the scan (not *.gguf)
  test::TinyModelSpec spec;
  spec.n_layer = 1;
  ASSERT_TRUE(test::WriteTinyModel(spec, other).ok());
  auto made = Service::Create(Options(other));
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(made.status().message().find("cannot draft for model stories"), std::string::npos)
      << made.status().message();
  const auto missing = Service::Create(Options((dir_ / "missing.gguf").string()));
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace jarvis
