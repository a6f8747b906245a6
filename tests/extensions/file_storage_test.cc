#include "extensions/file_storage/file_storage.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "auth_test_support.h"
#include "pipeline/storage.h"

namespace otlpd::extensions::file_storage {
namespace {

namespace fs = std::filesystem;
using testing::makeExtension;
using testing::NullHost;

class FileStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/otlpd-file-storage-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string root_;
};

TEST_F(FileStorageTest, AcceptsEveryCollectorKey) {
  auto made = makeExtension(*makeFileStorageFactory(), "directory: " + root_ + R"(
timeout: 2s
fsync: true
create_directory: true
directory_permissions: "0700"
compaction:
  on_start: true
  on_rebound: true
  directory: )" + root_ + R"(/compaction
  rebound_needed_threshold_mib: 10
  rebound_trigger_threshold_mib: 5
  max_transaction_size: 2048
  check_interval: 10s
  cleanup_on_start: true
)");
  EXPECT_EQ(made.errors, "");
  ASSERT_NE(made.extension, nullptr);
  auto* storage = dynamic_cast<pipeline::StorageExtension*>(made.extension.get());
  ASSERT_NE(storage, nullptr);
  EXPECT_TRUE(storage->fsyncEachWrite());
  NullHost host;
  ASSERT_TRUE(made.extension->start(host).ok());
  // create_directory makes the compaction directory too, as the Collector does.
  EXPECT_TRUE(fs::is_directory(root_ + "/compaction"));
  EXPECT_TRUE(made.extension->shutdown().ok());
}

TEST_F(FileStorageTest, ReportsBadValuesAtTheirKeys) {
  const std::string errors = makeExtension(*makeFileStorageFactory(), R"(
directory: ""
directory_permissions: "rwx"
compaction: { check_interval: 0s, max_transaction_size: -1, bogus: 1 }
)")
                                 .errors;
  EXPECT_NE(errors.find("extensions.auth.directory"), std::string::npos) << errors;
  EXPECT_NE(errors.find("extensions.auth.directory_permissions"), std::string::npos) << errors;
  EXPECT_NE(errors.find("compaction.check_interval"), std::string::npos) << errors;
  EXPECT_NE(errors.find("compaction.max_transaction_size"), std::string::npos) << errors;
  EXPECT_NE(errors.find("compaction.bogus"), std::string::npos) << errors;
}

TEST_F(FileStorageTest, AMissingDirectoryFailsStartUnlessCreated) {
  const std::string dir = root_ + "/a/b";
  auto missing = makeExtension(*makeFileStorageFactory(), "directory: " + dir);
  ASSERT_EQ(missing.errors, "");
  NullHost host;
  EXPECT_FALSE(missing.extension->start(host).ok());
  auto created = makeExtension(*makeFileStorageFactory(), "directory: " + dir +
                                                              "\ncreate_directory: true\n"
                                                              "directory_permissions: \"0750\"");
  ASSERT_EQ(created.errors, "");
  ASSERT_TRUE(created.extension->start(host).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  const mode_t umask_now = ::umask(0);
  ::umask(umask_now);
  EXPECT_EQ(st.st_mode & 0777, 0750u & ~umask_now);
}

TEST_F(FileStorageTest, GivesEachComponentItsOwnClientDirectoryNamedAsTheCollectorDoes) {
  auto made = makeExtension(*makeFileStorageFactory(), "directory: " + root_);
  ASSERT_EQ(made.errors, "");
  NullHost host;
  ASSERT_TRUE(made.extension->start(host).ok());
  auto* storage = dynamic_cast<pipeline::StorageExtension*>(made.extension.get());
  EXPECT_FALSE(storage->fsyncEachWrite());  // the Collector's default
  auto a = storage->clientDirectory(pipeline::ComponentKind::kExporter, {"otlp", "a"}, "traces");
  auto b = storage->clientDirectory(pipeline::ComponentKind::kExporter, {"otlp", ""}, "traces");
  auto c = storage->clientDirectory(pipeline::ComponentKind::kExporter, {"otlp", "a"}, "logs");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, root_ + "/exporter_otlp_a_traces");
  EXPECT_EQ(*b, root_ + "/exporter_otlp__traces");
  EXPECT_EQ(*c, root_ + "/exporter_otlp_a_logs");
  EXPECT_TRUE(fs::is_directory(*a));
  // The same client asked again (a restarted exporter) gets the same directory.
  EXPECT_EQ(*storage->clientDirectory(pipeline::ComponentKind::kExporter, {"otlp", "a"}, "traces"),
            *a);
}

TEST_F(FileStorageTest, ANameIsOnePathComponent) {
  EXPECT_EQ(
      pipeline::storageClientName(pipeline::ComponentKind::kExporter, {"otlp", "../x y"}, "traces"),
      "exporter_otlp_..~002Fx~0020y_traces");
}

TEST_F(FileStorageTest, AClientDirectoryInUseElsewhereIsRefusedAfterTheTimeout) {
  auto first = makeExtension(*makeFileStorageFactory(), "directory: " + root_);
  auto second = makeExtension(*makeFileStorageFactory(), "directory: " + root_ + "\ntimeout: 50ms");
  NullHost host;
  ASSERT_TRUE(first.extension->start(host).ok());
  ASSERT_TRUE(second.extension->start(host).ok());
  auto* s1 = dynamic_cast<pipeline::StorageExtension*>(first.extension.get());
  auto* s2 = dynamic_cast<pipeline::StorageExtension*>(second.extension.get());
  ASSERT_TRUE(s1->clientDirectory(pipeline::ComponentKind::kExporter, {"otlp", ""}, "traces").ok());
  auto taken = s2->clientDirectory(pipeline::ComponentKind::kExporter, {"otlp", ""}, "traces");
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kUnavailable) << taken.status();
  // Released at shutdown.
  ASSERT_TRUE(first.extension->shutdown().ok());
  EXPECT_TRUE(s2->clientDirectory(pipeline::ComponentKind::kExporter, {"otlp", ""}, "traces").ok());
}

}  // namespace
}  // namespace otlpd::extensions::file_storage
