// The packed-weights cache (model/packed_cache.h): a second load maps the
// file and computes the same logits, bit for bit, as packing afresh; a
// truncated, damaged, stale or foreign file is ignored (repacked, rewritten),
// never used; an unwritable directory only turns the cache off; the directory
// stays within its size limit.
#include "model/packed_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu/weight_pack.h"
#include "kernels/cpu/weight_pack.h"
#include "model/forward_pass.h"
#include "model/model.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteBytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Where the first padding byte after a packed matrix lies in a cache file
// (0: none), from its entry table.
uint64_t FirstPaddingByte(const std::vector<uint8_t>& b) {
  uint64_t data_offset;
  std::memcpy(&data_offset, &b[32], 8);
  uint32_t n;
  std::memcpy(&n, &b[12], 4);
  auto field = [&](uint32_t entry, size_t at) {
    uint64_t v;
    std::memcpy(&v, &b[64 + 48 * entry + at], 8);
    return v;
  };
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t end = field(i, 32) + PackedWeightBytes(static_cast<int64_t>(field(i, 16)), field(i, 24));
    const uint64_t next = i + 1 < n ? field(i + 1, 32) : b.size() - data_offset;
    if (end < next) return data_offset + end;
  }
  return 0;
}

class PackedCacheTest : public ::testing::TestWithParam<GgmlType> {
 protected:
  void SetUp() override {
    if (!PackedWeights::Enabled()) GTEST_SKIP() << "packing is off here (no AVX2, or scalar kernels)";
    spec_.weight_type = GetParam();
    spec_.n_embd = 256;  // K types need rows of 256
    spec_.n_ff = 512;
    spec_.n_layer = 3;
    path_ = test::TempPath(std::string("packed-cache-") + TypeName(GetParam()));
    cache_dir_ = path_ + ".cache";
    ASSERT_TRUE(test::WriteTinyModel(spec_, path_).ok());
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::error_code ec;
    fs::remove_all(cache_dir_, ec);
  }

  std::unique_ptr<Model> Load(const std::string& cache_dir, int32_t cpu_layers = -1) {
    ModelLoadOptions options;
    if (cpu_layers >= 0) options.cpu_layers = [cpu_layers](int32_t) { return cpu_layers; };
    options.packed_cache.dir = cache_dir;
    auto m = Model::Load(path_, options);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }

  // Logits of a two-sequence prompt batch.
  static std::vector<float> Logits(const Model& model) {
    const HParams& hp = model.hparams();
    KvLayout layout;
    layout.n_layer = hp.n_layer;
    layout.n_embd_kv = hp.n_embd_kv();
    layout.block_size = 8;
    std::vector<uint8_t> pool(4 * layout.block_bytes());
    KvPoolView view{layout, pool.data(), 4};
    const std::vector<int32_t> t0 = {0, 1}, t1 = {2, 3};
    Batch batch;
    for (int32_t i = 0; i < 11; ++i) batch.Add(3 + (i * 37) % 250, i, 0, true);
    for (int32_t i = 0; i < 5; ++i) batch.Add(5 + (i * 53) % 250, i, 1, true);
    batch.block_tables = {t0, t1};
    ThreadPool threads(2);
    ForwardPass graph(model, threads, 64);
    std::vector<float> logits(static_cast<size_t>(batch.n_outputs()) * hp.n_vocab);
    EXPECT_TRUE(graph.Forward(batch, view, logits.data()).ok());
    return logits;
  }

  // The logits of a fresh pack without any cache (the reference).
  std::vector<float> FreshLogits() {
    const auto fresh = Load("");
    EXPECT_TRUE(fresh && fresh->packed() && !fresh->packed()->from_cache());
    return fresh ? Logits(*fresh) : std::vector<float>{};
  }

  // Loads once to write the cache file; returns its path.
  fs::path WriteCache() {
    const auto first = Load(cache_dir_);
    EXPECT_TRUE(first && first->packed());
    if (!first || !first->packed()) return {};
    EXPECT_FALSE(first->packed()->from_cache());
    EXPECT_TRUE(first->packed()->WaitForCacheWrite().ok());
    EXPECT_TRUE(fs::exists(first->packed()->cache_path())) << first->packed()->Describe();
    return first->packed()->cache_path();
  }

  // After `damage` to the cache file, a load ignores it (packs afresh, same
  // logits as without a cache) and rewrites it, so the next load maps it.
  // (`rewritable` false: something that rename(2) cannot replace.)
  void ExpectIgnoredAndRewritten(const std::function<void(const fs::path&)>& damage, const std::string& what,
                                 bool rewritable = true) {
    SCOPED_TRACE(what);
    const fs::path file = WriteCache();
    ASSERT_FALSE(file.empty());
    const std::vector<float> reference = FreshLogits();
    damage(file);
    const auto damaged = Load(cache_dir_);
    ASSERT_TRUE(damaged && damaged->packed());
    EXPECT_FALSE(damaged->packed()->from_cache());
    EXPECT_EQ(Logits(*damaged), reference);
    (void)damaged->packed()->WaitForCacheWrite();  // the rewrite
    const auto again = Load(cache_dir_);
    ASSERT_TRUE(again && again->packed());
    EXPECT_EQ(again->packed()->from_cache(), rewritable) << "the damaged file was not rewritten";
    EXPECT_EQ(Logits(*again), reference);
    // A load that did not map the file is writing it again in the background
    // (its temporary file appears in the directory): let it finish before the
    // directory goes, or remove_all races with it ("Directory not empty").
    (void)again->packed()->WaitForCacheWrite();
    fs::remove_all(cache_dir_);
  }

  test::TinyModelSpec spec_;
  std::string path_;
  std::string cache_dir_;
};

TEST_P(PackedCacheTest, SecondLoadMapsTheCacheWithBitIdenticalLogits) {
  const std::vector<float> reference = FreshLogits();
  const auto first = Load(cache_dir_);
  ASSERT_TRUE(first && first->packed());
  EXPECT_FALSE(first->packed()->from_cache());
  EXPECT_EQ(Logits(*first), reference);
  EXPECT_TRUE(first->packed()->WaitForCacheWrite().ok());
  EXPECT_NE(first->packed()->Describe().find("cached to"), std::string::npos) << first->packed()->Describe();

  const auto second = Load(cache_dir_);
  ASSERT_TRUE(second && second->packed());
  EXPECT_TRUE(second->packed()->from_cache()) << second->packed()->Describe();
  EXPECT_EQ(second->packed()->cache_path(), first->packed()->cache_path());
  EXPECT_EQ(second->packed()->matrices(), first->packed()->matrices());
  EXPECT_NE(second->packed()->Describe().find("from cache"), std::string::npos);
  EXPECT_EQ(Logits(*second), reference);
}

TEST_P(PackedCacheTest, DamagedOrForeignFilesAreIgnoredAndRewritten) {
  auto flip_at = [](uint64_t offset) {
    return [offset](const fs::path& f) {
      std::vector<uint8_t> b = ReadBytes(f);
      ASSERT_LT(offset, b.size());
      b[offset] ^= 0x5a;
      WriteBytes(f, b);
    };
  };
  auto truncate_to = [](uint64_t size) {
    return [size](const fs::path& f) { fs::resize_file(f, size); };
  };
  // Header fields (packed_cache.h): magic 0, format 8, count 12, key 16,
  // data offset 32, size 40, checksum 56; entry 0 at 64: source 64, type 72,
  // rows 80, row bytes 88, offset 96, data checksum 104.
  for (uint64_t at : {0, 8, 12, 16, 31, 32, 40, 56, 64, 72, 80, 88, 96, 104}) {
    ExpectIgnoredAndRewritten(flip_at(at), "header byte " + std::to_string(at));
  }
  ExpectIgnoredAndRewritten(
      [](const fs::path& f) {
        std::vector<uint8_t> b = ReadBytes(f);
        uint64_t data_offset;
        std::memcpy(&data_offset, &b[32], 8);
        b[data_offset + (b.size() - data_offset) / 2] ^= 1;  // one bit inside the packed weights
        WriteBytes(f, b);
      },
      "data bit");
  ExpectIgnoredAndRewritten(
      [](const fs::path& f) {
        std::vector<uint8_t> b = ReadBytes(f);
        b.back() ^= 0x80;
        WriteBytes(f, b);
      },
      "last data byte");
  ExpectIgnoredAndRewritten(
      [](const fs::path& f) {
        std::vector<uint8_t> b = ReadBytes(f);
        const uint32_t format = kPackedCacheFormat + 1;
        std::memcpy(&b[8], &format, 4);
        WriteBytes(f, b);
      },
      "newer format version");
  ExpectIgnoredAndRewritten(truncate_to(0), "empty");
  ExpectIgnoredAndRewritten(truncate_to(63), "truncated header");
  ExpectIgnoredAndRewritten([](const fs::path& f) { fs::resize_file(f, fs::file_size(f) / 2); }, "truncated data");
  ExpectIgnoredAndRewritten([](const fs::path& f) { fs::resize_file(f, fs::file_size(f) + 4096); }, "grown");
  ExpectIgnoredAndRewritten(
      [](const fs::path& f) {
        fs::remove(f);
        fs::create_directory(f);
      },
      "a directory in its place", /*rewritable=*/false);
}

// The zero padding after a matrix (matrices are 64-byte aligned) belongs to
// the checksum of the matrix before it: every data byte is checked. (Q6_K
// tiles are 3360 bytes, so a matrix of an odd number of tiles -- the
// 300-row output -- is followed by padding; Q4_0 and Q4_K tiles fill 64-byte
// lines exactly.)
TEST_P(PackedCacheTest, DamagedPaddingIsCaught) {
  {
    const auto probe = Load(cache_dir_);
    ASSERT_TRUE(probe && probe->packed());
    ASSERT_TRUE(probe->packed()->WaitForCacheWrite().ok());
    if (FirstPaddingByte(ReadBytes(probe->packed()->cache_path())) == 0) {
      GTEST_SKIP() << "this type packs without padding";
    }
    fs::remove_all(cache_dir_);
  }
  ExpectIgnoredAndRewritten(
      [](const fs::path& f) {
        std::vector<uint8_t> b = ReadBytes(f);
        const uint64_t at = FirstPaddingByte(b);
        ASSERT_GT(at, 0u);
        b[at] ^= 1;
        WriteBytes(f, b);
      },
      "padding byte");
}

TEST_P(PackedCacheTest, AForeignFileUnderTheRightNameIsRefused) {
  const fs::path full = WriteCache();
  ASSERT_FALSE(full.empty());
  const auto partial = Load(cache_dir_, 1);  // one layer packed: another plan, another file
  ASSERT_TRUE(partial && partial->packed());
  ASSERT_TRUE(partial->packed()->WaitForCacheWrite().ok());
  const fs::path partial_file = partial->packed()->cache_path();
  ASSERT_NE(partial_file, full);
  const std::vector<float> reference = Logits(*partial);
  fs::copy_file(full, partial_file, fs::copy_options::overwrite_existing);
  const auto reloaded = Load(cache_dir_, 1);
  ASSERT_TRUE(reloaded && reloaded->packed());
  EXPECT_FALSE(reloaded->packed()->from_cache());
  EXPECT_EQ(Logits(*reloaded), reference);
  EXPECT_EQ(OpenPackedCache((fs::path(cache_dir_) / "absent.jvpack").string(), {}, {}, 0).status().code(),
            StatusCode::kNotFound);
}

TEST_P(PackedCacheTest, AChangedModelFileOrPlanGetsItsOwnFile) {
  const fs::path file = WriteCache();
  ASSERT_FALSE(file.empty());
  // Another GPU split packs other layers: another key.
  const auto partial = Load(cache_dir_, 1);
  ASSERT_TRUE(partial && partial->packed());
  EXPECT_FALSE(partial->packed()->from_cache());
  EXPECT_NE(partial->packed()->cache_path(), file.string());
  // The model rewritten (other weights, new mtime): a stale file is never used.
  spec_.seed = 2;
  ASSERT_TRUE(test::WriteTinyModel(spec_, path_).ok());
  const std::vector<float> reference = FreshLogits();
  const auto changed = Load(cache_dir_);
  ASSERT_TRUE(changed && changed->packed());
  EXPECT_FALSE(changed->packed()->from_cache());
  EXPECT_NE(changed->packed()->cache_path(), file.string());
  EXPECT_EQ(Logits(*changed), reference);
}

TEST_P(PackedCacheTest, ConcurrentLoadsWriteOneWholeFile) {
  std::vector<std::unique_ptr<Model>> models(3);
  std::vector<std::thread> threads;
  for (auto& m : models) threads.emplace_back([&] { m = Load(cache_dir_); });
  for (std::thread& t : threads) t.join();
  for (const auto& m : models) {
    ASSERT_TRUE(m && m->packed());
    EXPECT_TRUE(m->packed()->WaitForCacheWrite().ok());
  }
  const auto after = Load(cache_dir_);
  ASSERT_TRUE(after && after->packed());
  EXPECT_TRUE(after->packed()->from_cache());
  EXPECT_EQ(Logits(*after), Logits(*models[0]));
  int files = 0;
  for (const auto& e : fs::directory_iterator(cache_dir_)) {
    EXPECT_EQ(e.path().extension(), ".jvpack") << "left behind: " << e.path();
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_P(PackedCacheTest, AnUnwritableDirectoryOnlyTurnsTheCacheOff) {
  // A path below a regular file can never be created (root ignores modes).
  const std::string blocked = path_ + "/cache";
  const auto m = Load(blocked);
  ASSERT_TRUE(m && m->packed());
  EXPECT_FALSE(m->packed()->from_cache());
  EXPECT_EQ(m->packed()->WaitForCacheWrite().code(), StatusCode::kIoError);
  EXPECT_NE(m->packed()->Describe().find("not written"), std::string::npos) << m->packed()->Describe();
}

INSTANTIATE_TEST_SUITE_P(PackableTypes, PackedCacheTest, ::testing::Values(GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ6_K),
                         [](const ::testing::TestParamInfo<GgmlType>& p) { return std::string(TypeName(p.param)); });

TEST(PackedCacheEvictionTest, DeletesLeastRecentlyUsedFilesAboveTheLimit) {
  const fs::path dir = test::TempPath("packed-cache-evict");
  fs::create_directories(dir);
  auto make = [&](const std::string& name, size_t bytes, int age_s) {
    WriteBytes(dir / name, std::vector<uint8_t>(bytes, 7));
    fs::last_write_time(dir / name, fs::file_time_type::clock::now() - std::chrono::seconds(age_s));
  };
  make("old.jvpack", 1000, 300);
  make("mid.jvpack", 1000, 200);
  make("new.jvpack", 1000, 100);
  make("kept.jvpack", 1000, 400);  // the oldest, but just written: never evicted
  make("other.bin", 5000, 500);    // not a cache file: left alone
  make("x.jvpack.tmp.1.0", 10, 2 * 86400);  // a crashed writer's
  make("y.jvpack.tmp.1.1", 10, 10);          // a live writer's
  EXPECT_EQ(EvictPackedCache(dir.string(), 2500, (dir / "kept.jvpack").string()), 2010u);
  EXPECT_FALSE(fs::exists(dir / "old.jvpack"));
  EXPECT_FALSE(fs::exists(dir / "mid.jvpack"));
  EXPECT_TRUE(fs::exists(dir / "new.jvpack"));
  EXPECT_TRUE(fs::exists(dir / "kept.jvpack"));
  EXPECT_TRUE(fs::exists(dir / "other.bin"));
  EXPECT_FALSE(fs::exists(dir / "x.jvpack.tmp.1.0"));
  EXPECT_TRUE(fs::exists(dir / "y.jvpack.tmp.1.1"));
  fs::remove_all(dir);
}

TEST(PackedCacheDirTest, ResolvesOffExplicitAndTheUserCacheDir) {
  EXPECT_EQ(ResolvePackedCacheDir("off"), "");
  EXPECT_EQ(ResolvePackedCacheDir("/some/dir"), "/some/dir");
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const std::string saved = xdg != nullptr ? xdg : "";
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(ResolvePackedCacheDir(""), "/xdg/jarvis/packed");
  unsetenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') {
    EXPECT_EQ(ResolvePackedCacheDir(""), std::string(home) + "/.cache/jarvis/packed");
  }
  if (xdg != nullptr) setenv("XDG_CACHE_HOME", saved.c_str(), 1);
}

}  // namespace
}  // namespace jarvis
