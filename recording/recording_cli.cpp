// Option parsing for record / replay / info; the work is in recorder.cpp,
// replayer.cpp, info.cpp and recover.cpp.
#include "recording_cli.hpp"

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "info.hpp"
#include "recorder.hpp"
#include "recover.hpp"
#include "replayer.hpp"

namespace shmsnap::recording {

namespace {

struct Options {
  RecordOptions record;
  std::string compression = "zstd";
  std::string encoding = "raw";
  std::vector<std::string> recover_paths;
  ReplayOptions replay;
  std::string info_file;
  bool info_json = false;
};

int run_record(Options& options, app::Io& io) {
  options.record.compression = mcap::parse_compression(options.compression);
  if (!options.recover_paths.empty()) {
    const RecoverReport report =
        recover(options.recover_paths.at(0), options.recover_paths.at(1), options.record.compression);
    io.out << "recovered messages=" << report.messages << " into " << options.recover_paths.at(1) << "; the input "
           << (report.input_complete ? "was complete" : "ended early: " + report.input_truncation) << std::endl;
    return app::exit_ok;
  }
  options.record.encoding = options.encoding == "json" ? Encoding::json : Encoding::raw;
  // A file size limit (ulimit -f) must end in a clear error and a finished file, not
  // in death by SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  const RecordReport report = record(options.record, io.stop, io.out);
  io.out << "recorded messages=" << report.messages << " bytes=" << report.file_size
         << " file=" << options.record.output << "\n";
  for (const auto& [topic, counts] : report.topics) {
    io.out << "topic=" << topic << " recorded=" << counts.recorded << " skipped=" << counts.skipped
           << " (skipped: replaced by a newer snapshot before being read; latest-value conflation, not loss)\n";
  }
  io.out.flush();
  return app::exit_ok;
}

}  // namespace

void add_recording_commands(CLI::App& app, std::function<int()>& action, app::Io& io) {
  auto options = std::make_shared<Options>();

  auto* record_command = app.add_subcommand(
      "record",
      "record topics into an MCAP file (Foxglove Studio opens it) until SIGINT/SIGTERM or --duration; "
      "--recover IN OUT rewrites a file whose recorder was killed");
  record_command->add_option("-o,--output", options->record.output, "the .mcap file to write");
  record_command->add_option("topics", options->record.topics, "topics to record (waited for when absent)");
  record_command->add_flag("--all", options->record.all, "every topic of the prefix, also those appearing later");
  app::add_prefix_option(*record_command, options->record.prefix);
  app::add_socket_dir_option(*record_command, options->record.socket_dir)
      ->description(
          "socket mode: follow topics through DIR/<topic>.sock (with --all: every socket there) instead of "
          "/dev/shm; default $SHMSNAP_SOCKET_DIR, unset: named mode");
  record_command->add_option("--duration", options->record.duration, "stop after S seconds")
      ->check(CLI::PositiveNumber);
  record_command->add_option("--compression", options->compression, "chunk compression")
      ->capture_default_str()
      ->check(CLI::IsMember({"zstd", "lz4", "none"}));
  record_command
      ->add_option("--encoding", options->encoding,
                   "raw: snapshot bytes + shmsnap descriptor (byte-exact replay); json: JSON + JSON Schema")
      ->capture_default_str()
      ->check(CLI::IsMember({"raw", "json"}));
  record_command->add_option("--chunk-size", options->record.chunk_size, "uncompressed bytes per MCAP chunk")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{4096}, std::size_t{64} << 20));
  record_command
      ->add_option("--chunk-interval", options->record.chunk_interval,
                   "close a chunk at most S seconds after its first message, also when no more arrive: a killed "
                   "recorder loses at most the last S seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.001, max_record_seconds));
  record_command
      ->add_option("--recover", options->recover_paths,
                   "IN OUT: rewrite IN (cut short by a kill or a full disk) as a complete file OUT")
      ->expected(2);
  record_command->callback([&action, &io, options, record_command] {
    const bool recovering = !options->recover_paths.empty();
    if (!recovering && options->record.output.empty())
      throw CLI::RequiredError("-o,--output");
    if (recovering && (!options->record.output.empty() || !options->record.topics.empty() || options->record.all))
      throw CLI::ValidationError("--recover", "takes IN OUT and no -o, topics or --all");
    (void)record_command;
    action = [options, &io] { return run_record(*options, io); };
  });

  auto* replay_command = app.add_subcommand(
      "replay",
      "republish a recording's topics with their recorded timing, as their publisher (a live publisher of a topic "
      "is refused)");
  replay_command->add_option("file", options->replay.input, "the .mcap file")->required();
  auto* speed = replay_command->add_option("--speed", options->replay.speed, "time scale: 2 = twice as fast")
                    ->capture_default_str()
                    ->check(CLI::PositiveNumber);
  replay_command->add_flag("--max", options->replay.max, "as fast as possible")->excludes(speed);
  replay_command->add_flag("--loop", options->replay.loop, "start over at the end, until SIGINT/SIGTERM");
  replay_command->add_option("--topic", options->replay.topics, "only this topic (repeatable)");
  app::add_prefix_option(*replay_command, options->replay.prefix)
      ->description("resource namespace to publish in (default $SHMSNAP_PREFIX or 'shmsnap')");
  replay_command->add_option("--start", options->replay.start, "skip the first S seconds")
      ->check(CLI::NonNegativeNumber);
  replay_command->add_option("--end", options->replay.end, "stop S seconds after the first message")
      ->check(CLI::PositiveNumber);
  replay_command->callback([&action, &io, options] {
    action = [options, &io] {
      const ReplayReport report = replay(options->replay, io.stop, io.out);
      io.out << "replayed published=" << report.published << " passes=" << report.passes << std::endl;
      return app::exit_ok;
    };
  });

  auto* info_command =
      app.add_subcommand("info", "what an MCAP recording holds: topics, schemas, counts, duration, rates, ratio");
  info_command->add_option("file", options->info_file, "the .mcap file")->required();
  info_command->add_flag("--json", options->info_json, "one JSON object");
  info_command->callback([&action, &io, options] {
    action = [options, &io] {
      const auto description = describe(options->info_file);
      if (options->info_json)
        io.out << description.dump() << std::endl;
      else
        print_info(description, io.out);
      return app::exit_ok;
    };
  });
}

}  // namespace shmsnap::recording
