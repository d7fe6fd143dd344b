// shmsnap-schemac's command line: in-process through run_schemac, and through the
// real binary (found via SHMSNAP_BIN_DIR) so exit codes and stderr are what users see.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "support/process_runner.hpp"

namespace shmsnap::schemac {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string test_schemas = SHMSNAP_TEST_SCHEMA_DIR;
const std::string bundled_schemas = SHMSNAP_BUNDLED_SCHEMA_DIR;

class SchemacCli : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ =
        fs::temp_directory_path() / ("shmsnap_schemac_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "shmsnap-schemac");
    std::vector<const char*> argv;
    for (const auto& arg : args)
      argv.push_back(arg.c_str());
    out_.str("");
    err_.str("");
    return run_schemac(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }

  fs::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(SchemacCli, WritesOneHeaderPerSchemaNamedAfterIt) {
  ASSERT_EQ(run({bundled_schemas + "/market_quote_book.toml", bundled_schemas + "/robot_pose.toml", "--out-dir",
                 dir_.string()}),
            exit_ok)
      << err_.str();
  EXPECT_TRUE(fs::exists(dir_ / "market_quote_book.hpp"));
  EXPECT_TRUE(fs::exists(dir_ / "robot_pose.hpp"));
  std::ifstream header(dir_ / "market_quote_book.hpp");
  const std::string text((std::istreambuf_iterator<char>(header)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("namespace market {"), std::string::npos);
  EXPECT_NE(text.find("struct QuoteBook {"), std::string::npos);
}

TEST_F(SchemacCli, LeavesAnUnchangedHeaderUntouched) {
  // Rewriting an identical header would recompile everything that includes it.
  const std::string file = bundled_schemas + "/service_health.toml";
  ASSERT_EQ(run({file, "--out-dir", dir_.string()}), exit_ok) << err_.str();
  const fs::path header = dir_ / "service_health.hpp";
  const auto old_time = fs::file_time_type::clock::now() - 1h;
  fs::last_write_time(header, old_time);
  ASSERT_EQ(run({file, "--out-dir", dir_.string()}), exit_ok) << err_.str();
  EXPECT_EQ(fs::last_write_time(header), old_time);
}

TEST_F(SchemacCli, CheckValidatesWithoutWriting) {
  EXPECT_EQ(run({bundled_schemas + "/robot_pose.toml", "--check"}), exit_ok) << err_.str();
  EXPECT_EQ(run({test_schemas + "/bad_unknown_type.toml", "--check"}), exit_schema_error);
  EXPECT_NE(err_.str().find("bad_unknown_type.toml:5:8: error: field 'price': unknown type 'f65'"), std::string::npos)
      << err_.str();
}

TEST_F(SchemacCli, WritesNothingWhenAnySchemaFails) {
  EXPECT_EQ(
      run({bundled_schemas + "/robot_pose.toml", test_schemas + "/bad_unknown_type.toml", "--out-dir", dir_.string()}),
      exit_schema_error);
  EXPECT_FALSE(fs::exists(dir_ / "robot_pose.hpp"));
}

TEST_F(SchemacCli, RefusesTwoFilesWithTheSameSchemaName) {
  EXPECT_EQ(run({test_schemas + "/all_types.toml", test_schemas + "/all_types_v2.toml", "--check"}), exit_schema_error);
  EXPECT_NE(err_.str().find("is also defined in"), std::string::npos) << err_.str();
}

TEST_F(SchemacCli, BadCommandLineIsAUsageError) {
  EXPECT_EQ(run({}), exit_usage);
  EXPECT_EQ(run({bundled_schemas + "/robot_pose.toml"}), exit_usage);  // neither --out-dir nor --check
  EXPECT_NE(err_.str().find("--out-dir"), std::string::npos);
  EXPECT_EQ(run({bundled_schemas + "/robot_pose.toml", "--no-such-flag"}), exit_usage);
}

TEST_F(SchemacCli, PrintsDescriptorAndLayout) {
  ASSERT_EQ(run({bundled_schemas + "/market_quote_book.toml", "--print-descriptor", "--print-layout"}), exit_ok);
  EXPECT_NE(out_.str().find("shmsnap-layout 1\nschema market.quote_book\n"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("\"name\": \"market.quote_book\""), std::string::npos) << out_.str();
}

// The real binary: what a build or a user sees.
std::vector<std::string> binary_command(const std::vector<std::string>& args) {
  // sh merges stderr into the captured stdout; "$0" "$@" passes the arguments unquoted-safe.
  std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1",
                                shmsnap::test::bin_dir() + "/shmsnap-schemac"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string read_all(shmsnap::test::ChildProcess& child) {
  while (child.read_line(10s)) {
  }
  return child.output();
}

TEST_F(SchemacCli, BinaryReportsFileLineAndFieldAndFails) {
  shmsnap::test::ChildProcess child(
      binary_command({test_schemas + "/bad_unknown_type.toml", "--out-dir", dir_.string()}));
  const std::string output = read_all(child);
  EXPECT_EQ(child.wait_exit(10s), 1);
  EXPECT_NE(output.find(test_schemas + "/bad_unknown_type.toml:5:8: error: field 'price': unknown type 'f65'"),
            std::string::npos)
      << output;
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(SchemacCli, BinaryCompilesTheBundledSchemas) {
  shmsnap::test::ChildProcess child(
      binary_command({bundled_schemas + "/market_quote_book.toml", bundled_schemas + "/robot_pose.toml",
                      bundled_schemas + "/service_health.toml", "--out-dir", dir_.string(), "--verbose"}));
  const std::string output = read_all(child);
  EXPECT_EQ(child.wait_exit(10s), 0) << output;
  EXPECT_NE(output.find("(service::Health, 200 bytes)"), std::string::npos) << output;
  EXPECT_TRUE(fs::exists(dir_ / "service_health.hpp"));
}

}  // namespace
}  // namespace shmsnap::schemac
