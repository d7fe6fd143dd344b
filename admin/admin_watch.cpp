// shmsnap watch: a live terminal view of one topic. It polls the region's
// published sequence (a read-only mapping: watching never costs the publisher a
// notification, and in named mode registers no subscriber; in socket mode it is
// attached as a spinning one, see opened_topic.hpp), redraws on each update with the
// publish rate and latency, and highlights the fields that changed; with --json, one
// JSON object per update instead.
#include <unistd.h>

#include <chrono>
#include <deque>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "admin_commands.hpp"
#include "opened_topic.hpp"
#include "shmsnap/clock.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/schema_json.hpp"

namespace shmsnap::app {
namespace {

using Json = nlohmann::ordered_json;

constexpr auto poll_interval = std::chrono::milliseconds(1);
constexpr std::int64_t redraw_interval_ns = 50'000'000;  // a terminal shows ~20 frames/s usefully
constexpr std::int64_t reopen_interval_ns = 200'000'000;
constexpr std::int64_t rate_window_ns = 1'000'000'000;
// Socket mode: how long one attempt waits for the publisher's answer.
constexpr std::chrono::milliseconds attach_timeout{1000};

class Watch {
 public:
  Watch(const TopicCommand& command, Io& io)
      : command_(command),
        io_(io),
        location_(topic_location(command, command.topic)),
        terminal_(!command.json && command.color && &io.out == &std::cout && ::isatty(STDOUT_FILENO) == 1) {}

  int run() {
    const std::int64_t start = monotonic_ns();
    bool announced = false;
    while (!opened_ && !io_.stop.load(std::memory_order_relaxed)) {
      if (try_open()) {
        break;
      }
      if (!announced) {
        announced = true;
        io_.err << "shmsnap watch: waiting for topic '" << command_.topic << "' (" << location_ << ")" << std::endl;
      }
      if (command_.timeout > 0 && monotonic_ns() - start >= static_cast<std::int64_t>(command_.timeout * 1e9)) {
        io_.err << "shmsnap watch: topic '" << command_.topic << "' did not appear within " << command_.timeout << " s"
                << std::endl;
        return exit_timed_out;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::int64_t last_reopen = 0;
    while (!io_.stop.load(std::memory_order_relaxed)) {
      const std::uint64_t seq = reader().latest_seq();
      if (seq != 0 && seq != last_seq_) {
        if (show_update() && command_.count != 0 && updates_ >= command_.count) {
          draw(false);  // a frame still pending (throttled); one already shown is not repeated
          return exit_ok;
        }
      } else if (pending_draw_ && monotonic_ns() - last_draw_ns_ >= redraw_interval_ns) {
        draw(false);
      }
      if (!gone_ && (reader().closed() || !reader().publisher_alive())) {
        gone_ = true;
        draw(true);
      }
      if (gone_ && monotonic_ns() - last_reopen >= reopen_interval_ns) {
        last_reopen = monotonic_ns();
        try_open();  // a successor publisher makes a new region under the same name
      }
      std::this_thread::sleep_for(poll_interval);
    }
    return exit_ok;
  }

 private:
  [[nodiscard]] const RegionReader& reader() const noexcept { return opened_->reader(); }

  bool try_open() {
    try {
      OpenedTopic candidate(command_, command_.topic, attach_timeout);
      if (opened_ && candidate.reader().inode() == reader().inode()) {
        return false;
      }
      if (candidate.reader().closed() || !candidate.reader().publisher_alive()) {
        if (!opened_) {
          opened_.emplace(std::move(candidate));  // show the last state of a dead publisher
          gone_ = true;
          return true;
        }
        return false;
      }
      opened_.emplace(std::move(candidate));
      codec_.emplace(reader().descriptor());
      notes_ = codec_->field_notes();
      last_seq_ = 0;
      gone_ = false;
      rate_window_.clear();
      return true;
    } catch (const Error& error) {
      // Socket mode: a publisher that does not answer in time (stopped, starting) may yet.
      if (error.code() == Errc::not_found || error.code() == Errc::invalid_region ||
          (!command_.socket_dir.empty() && error.code() == Errc::timed_out)) {
        return false;
      }
      throw;
    }
  }

  // Reads the newest snapshot; false when it could not be read this time.
  bool show_update() {
    if (!codec_) {
      codec_.emplace(reader().descriptor());
      notes_ = codec_->field_notes();
    }
    std::vector<std::byte> bytes(reader().payload_size());
    SnapshotMeta meta;
    std::uint64_t retries = 0;
    // A truncated file would fault on its lost pages: stop reading it.
    if (!reader().file_intact() || reader().try_read(bytes, meta, retries) != ReadStatus::ok) {
      return false;
    }
    const std::int64_t now = monotonic_ns();
    const std::uint64_t previous_seq = last_seq_;
    last_seq_ = meta.seq;
    latency_ns_ = now - meta.publish_ts_ns;
    ++updates_;
    rate_window_.emplace_back(now, meta.seq);
    while (rate_window_.size() > 2 && now - rate_window_.front().first > rate_window_ns) {
      rate_window_.pop_front();
    }
    data_ = codec_->decode_ordered(bytes);
    FieldLines lines;
    flatten(data_, "", lines);
    // Changes accumulate between frames so a throttled redraw still shows them.
    if (!pending_draw_) {
      changed_.clear();
    }
    for (std::size_t index = 0; index < lines.size(); ++index) {
      const bool differs = previous_seq != 0 && (index >= lines_.size() || lines_[index].second != lines[index].second);
      if (differs) {
        changed_.insert(lines[index].first);
      }
    }
    lines_ = std::move(lines);
    pending_draw_ = true;
    if (!terminal_ || now - last_draw_ns_ >= redraw_interval_ns) {
      draw(false);
    }
    return true;
  }

  void draw(bool force) {
    if (!force && !pending_draw_) {
      return;
    }
    double rate = 0;
    if (rate_window_.size() >= 2) {
      const auto& [first_ns, first_seq] = rate_window_.front();
      const auto& [last_ns, last_seq] = rate_window_.back();
      if (last_ns > first_ns) {
        rate = static_cast<double>(last_seq - first_seq) * 1e9 / static_cast<double>(last_ns - first_ns);
      }
    }
    if (command_.json) {
      draw_json(rate);
      return;
    }
    std::string frame;
    if (terminal_) {
      frame += "\x1b[H\x1b[2J";
    }
    frame += fmt::format("{}{} {} v{}  publisher pid {} ({})  epoch {}\n", terminal_ ? "" : "--- ", command_.topic,
                         reader().schema_name(), reader().header().schema_version, reader().publisher_pid(),
                         state_text(publisher_status_json(reader())), reader().epoch());
    frame += fmt::format("seq {}  rate {:.1f}/s  latency {:.1f} us  updates seen {}\n", last_seq_, rate,
                         static_cast<double>(latency_ns_) / 1e3, updates_);
    for (const auto& [path, raw_value] : lines_) {
      const bool changed = changed_.count(path) != 0;
      const std::string value = value_with_unit(field_note(notes_, path), raw_value);
      if (terminal_) {
        frame += changed ? fmt::format("  \x1b[1;33m{} = {}\x1b[0m\n", path, value)
                         : fmt::format("  {} = {}\n", path, value);
      } else {
        frame += fmt::format("{} {} = {}\n", changed ? "*" : " ", path, value);
      }
    }
    io_.out << frame << std::flush;
    last_draw_ns_ = monotonic_ns();
    pending_draw_ = false;
  }

  // One JSON object per line, per update and when the publisher goes: the fields of
  // `dump --json` (the publisher's status as list gives it) with the rate and latency.
  void draw_json(double rate) {
    Json frame{{"topic", command_.topic},
               {"schema", std::string(reader().schema_name())},
               {"schema_version", reader().header().schema_version},
               {"epoch", reader().epoch()},
               {"seq", last_seq_},
               {"publisher_pid", reader().publisher_pid()}};
    frame.update(publisher_status_json(reader()));
    frame["rate_hz"] = rate;
    frame["latency_ns"] = last_seq_ != 0 ? Json(latency_ns_) : Json(nullptr);
    frame["updates"] = updates_;
    frame["data"] = data_;
    frame["fields"] = notes_;
    io_.out << frame.dump(-1, ' ', false, Json::error_handler_t::replace) << std::endl;
    last_draw_ns_ = monotonic_ns();
    pending_draw_ = false;
  }

  const TopicCommand& command_;
  Io& io_;
  std::string location_;  // "/dev/shm/..." or "DIR/<topic>.sock", for messages
  bool terminal_;
  std::optional<OpenedTopic> opened_;
  std::optional<SnapshotCodec> codec_;
  std::uint64_t last_seq_ = 0;
  std::uint64_t updates_ = 0;
  std::int64_t latency_ns_ = 0;
  std::int64_t last_draw_ns_ = 0;
  bool pending_draw_ = false;
  bool gone_ = false;
  Json data_;   // the newest decoded snapshot (null before the first)
  Json notes_;  // codec_'s field notes: units and descriptions by field path
  FieldLines lines_;
  std::set<std::string> changed_;
  std::deque<std::pair<std::int64_t, std::uint64_t>> rate_window_;
};

}  // namespace

int watch_topic(const TopicCommand& command, Io& io) {
  return Watch(command, io).run();
}

}  // namespace shmsnap::app
