// Table, JSON and CSV output (see report.hpp).
#include "bench/report.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace shmsnap::bench {
namespace {

std::optional<double> ratio(std::int64_t value, std::int64_t reference) {
  if (reference <= 0)
    return std::nullopt;
  return static_cast<double>(value) / static_cast<double>(reference);
}

bool usable(const RowResult& row) {
  return row.applicable && !row.failed && row.pooled.samples > 0;
}

bool is_used_row(const RowResult& row) {
  return row.used_bytes != row.payload_bytes;
}

// The whole-message row of `transport` (and `mode`, unless empty) that moves as many
// bytes as `like` does: its payload is like's used length (its payload, but for a used row).
const RowResult* find_reference(const std::vector<RowResult>& rows, const std::string& transport, const RowResult& like,
                                const std::string& mode = {}) {
  for (const auto& row : rows) {
    if (row.transport == transport && (mode.empty() || row.mode == mode) && row.payload_bytes == like.used_bytes &&
        !is_used_row(row) && row.subscribers == like.subscribers && usable(row)) {
      return &row;
    }
  }
  return nullptr;
}

std::string human_bytes(std::size_t bytes) {
  if (bytes >= (1U << 20U) && bytes % (1U << 20U) == 0)
    return std::to_string(bytes >> 20U) + "Mi";
  if (bytes >= 1024 && bytes % 1024 == 0)
    return std::to_string(bytes >> 10U) + "Ki";
  return std::to_string(bytes);
}

std::string micros(std::int64_t ns) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(ns < 10'000'000 ? 2 : 0) << static_cast<double>(ns) / 1000.0;
  return text.str();
}

std::string fixed(double value, int precision) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(precision) << value;
  return text.str();
}

std::string ratio_text(const std::optional<double>& p50, const std::optional<double>& p99) {
  if (!p50 || !p99)
    return "-";
  return fixed(*p50, 2) + "/" + fixed(*p99, 2);
}

std::string flags_text(const RowResult& row) {
  std::string flags;
  auto add = [&](const std::string& flag) { flags += (flags.empty() ? "" : " ") + flag; };
  if (!row.applicable)
    add("n/a: " + row.note);
  if (row.failed)
    add("FAILED: " + row.note);
  if (row.oversubscribed)
    add("busy>cores");
  if (row.truncated)
    add("truncated");
  if (row.applicable && !row.failed && !row.note.empty())
    add("(" + row.note + ")");
  return flags;
}

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json summary_json(const stats::LatencySummary& summary) {
  return {{"samples", summary.samples}, {"p50_ns", summary.p50_ns},   {"p90_ns", summary.p90_ns},
          {"p99_ns", summary.p99_ns},   {"p999_ns", summary.p999_ns}, {"max_ns", summary.max_ns},
          {"mean_ns", summary.mean_ns}};
}

void open_or_throw(std::ofstream& file, const std::string& path) {
  file.open(path);
  if (!file)
    throw std::runtime_error("cannot write " + path);
}

}  // namespace

void attach_ratios(std::vector<RowResult>& rows) {
  for (auto& row : rows) {
    if (!usable(row))
      continue;
    if (const RowResult* mq = find_reference(rows, "posix_mq", row)) {
      row.p50_vs_posix_mq = ratio(row.pooled.p50_ns, mq->pooled.p50_ns);
      row.p99_vs_posix_mq = ratio(row.pooled.p99_ns, mq->pooled.p99_ns);
    }
    if (const RowResult* floor = find_reference(rows, "floor", row)) {
      row.p50_vs_floor = ratio(row.pooled.p50_ns, floor->pooled.p50_ns);
      row.p99_vs_floor = ratio(row.pooled.p99_ns, floor->pooled.p99_ns);
    }
    if (!is_used_row(row))
      continue;
    if (const RowResult* same = find_reference(rows, row.transport, row, row.mode)) {
      row.p50_vs_used_payload = ratio(row.pooled.p50_ns, same->pooled.p50_ns);
      row.p99_vs_used_payload = ratio(row.pooled.p99_ns, same->pooled.p99_ns);
    }
  }
}

void print_table(std::ostream& out, const std::vector<RowResult>& rows, const RunSettings& settings) {
  // The used-length columns appear only in a run with variable-size (--used) rows.
  const bool used_columns = std::any_of(rows.begin(), rows.end(), is_used_row);
  std::vector<std::string> header{"transport", "mode", "payload"};
  if (used_columns)
    header.emplace_back("used");
  for (const char* name : {"subs", "p50us", "p90us", "p99us", "p99.9us", "maxus", "meanus", "samples", "thr_hz",
                           "skipped", "retries", "torn", "pub50us", "pub99us", "sub_pss_kib", "x_mq", "x_floor"}) {
    header.emplace_back(name);
  }
  if (used_columns)
    header.emplace_back("x_used");
  header.emplace_back("flags");
  std::vector<std::vector<std::string>> cells{header};
  for (const auto& row : rows) {
    std::vector<std::string> line{row.transport, row.mode, human_bytes(row.payload_bytes)};
    if (used_columns)
      line.push_back(human_bytes(row.used_bytes));
    line.push_back(std::to_string(row.subscribers));
    if (usable(row)) {
      const auto& p = row.pooled;
      for (std::int64_t ns : {p.p50_ns, p.p90_ns, p.p99_ns, p.p999_ns, p.max_ns})
        line.push_back(micros(ns));
      line.push_back(micros(static_cast<std::int64_t>(p.mean_ns)));
      line.push_back(std::to_string(p.samples));
      line.push_back(fixed(row.throughput_hz, 0));
      line.push_back(std::to_string(row.skipped));
      line.push_back(std::to_string(row.retries));
      line.push_back(std::to_string(row.torn));
      line.push_back(micros(row.publish_cost.p50_ns));
      line.push_back(micros(row.publish_cost.p99_ns));
      line.push_back(fixed(row.subscriber_pss_kib, 0));
      line.push_back(ratio_text(row.p50_vs_posix_mq, row.p99_vs_posix_mq));
      line.push_back(ratio_text(row.p50_vs_floor, row.p99_vs_floor));
      if (used_columns)
        line.push_back(ratio_text(row.p50_vs_used_payload, row.p99_vs_used_payload));
    }
    line.resize(header.size() - 1, "-");  // the latency columns of a row that did not run
    line.push_back(flags_text(row));
    cells.push_back(std::move(line));
  }
  std::vector<std::size_t> widths(header.size(), 0);
  for (const auto& line : cells) {
    for (std::size_t column = 0; column + 1 < line.size(); ++column)
      widths[column] = std::max(widths[column], line[column].size());
  }
  out << "# one-way latency, publish -> payload copied out in the subscriber (CLOCK_MONOTONIC), pooled over "
         "subscribers\n"
      << "# rate " << (settings.rate_hz > 0 ? fixed(settings.rate_hz, 0) + " Hz" : std::string("max")) << ", "
      << settings.samples << " samples + " << settings.warmup << " warm-up per row, " << settings.cpus << " CPUs"
      << (settings.pin ? ", pinned" : "")
      << (settings.slot_count != 0 ? ", shmsnap " + std::to_string(settings.slot_count) + " slots" : std::string())
      << "; x_mq / x_floor = p50/p99 ratio to posix_mq / floor\n";
  if (used_columns) {
    out << "# used: bytes of each message published and checked (shmsnap variable-size snapshots); x_used = "
           "p50/p99 ratio to the same transport and mode with payload = used (x_mq / x_floor also compare "
           "against payload = used)\n";
  }
  for (const auto& line : cells) {
    for (std::size_t column = 0; column < line.size(); ++column) {
      const bool left = column < 2 || column + 1 == line.size();
      if (column + 1 == line.size()) {
        out << line[column];
      } else {
        out << (left ? std::left : std::right) << std::setw(static_cast<int>(widths[column])) << line[column] << "  ";
      }
    }
    out << '\n';
  }
}

void write_json(const std::string& path, const std::vector<RowResult>& rows, const RunSettings& settings) {
  nlohmann::json records = nlohmann::json::array();
  for (const auto& row : rows) {
    const bool ok = usable(row);
    auto value = [&](auto v) { return ok ? nlohmann::json(v) : nlohmann::json(nullptr); };
    nlohmann::json record{{"transport", row.transport},
                          {"mode", row.mode},
                          {"payload_bytes", row.payload_bytes},
                          {"used_bytes", row.used_bytes},
                          {"subscribers", row.subscribers},
                          {"p50_ns", value(row.pooled.p50_ns)},
                          {"p90_ns", value(row.pooled.p90_ns)},
                          {"p99_ns", value(row.pooled.p99_ns)},
                          {"p999_ns", value(row.pooled.p999_ns)},
                          {"max_ns", value(row.pooled.max_ns)},
                          {"mean_ns", value(row.pooled.mean_ns)},
                          {"samples", row.pooled.samples},
                          {"throughput_hz", value(row.throughput_hz)},
                          {"publish_hz", value(row.publish_hz)},
                          {"published", row.published},
                          {"skipped", row.skipped},
                          {"retries", row.retries},
                          {"torn", row.torn},
                          {"publish_p50_ns", value(row.publish_cost.p50_ns)},
                          {"publish_p99_ns", value(row.publish_cost.p99_ns)},
                          {"subscriber_rss_kib", value(row.subscriber_rss_kib)},
                          {"subscriber_pss_kib", value(row.subscriber_pss_kib)},
                          {"applicable", row.applicable},
                          {"failed", row.failed},
                          {"truncated", row.truncated},
                          {"oversubscribed", row.oversubscribed},
                          {"note", row.note},
                          {"rate_hz", settings.rate_hz > 0 ? nlohmann::json(settings.rate_hz) : nlohmann::json("max")},
                          {"slot_count", settings.slot_count},  // 0: the library's default
                          {"p50_vs_posix_mq", optional_json(row.p50_vs_posix_mq)},
                          {"p99_vs_posix_mq", optional_json(row.p99_vs_posix_mq)},
                          {"p50_vs_floor", optional_json(row.p50_vs_floor)},
                          {"p99_vs_floor", optional_json(row.p99_vs_floor)},
                          {"p50_vs_used_payload", optional_json(row.p50_vs_used_payload)},
                          {"p99_vs_used_payload", optional_json(row.p99_vs_used_payload)}};
    nlohmann::json per_subscriber = nlohmann::json::array();
    for (const auto& summary : row.per_subscriber)
      per_subscriber.push_back(summary_json(summary));
    record["per_subscriber"] = std::move(per_subscriber);
    records.push_back(std::move(record));
  }
  std::ofstream file;
  open_or_throw(file, path);
  file << records.dump(2) << '\n';
  if (!file)
    throw std::runtime_error("error writing " + path);
}

void write_csv(const std::string& path, const std::vector<RowResult>& rows) {
  std::ofstream file;
  open_or_throw(file, path);
  file << "transport,mode,payload_bytes,subscribers,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,mean_ns,samples,"
          "throughput_hz,skipped,retries,torn,applicable,failed,truncated,oversubscribed,p50_vs_posix_mq,"
          "p99_vs_posix_mq,p50_vs_floor,p99_vs_floor,publish_p50_ns,publish_p99_ns,subscriber_pss_kib,used_bytes,"
          "p50_vs_used_payload,p99_vs_used_payload,note\n";
  auto opt = [](const std::optional<double>& v) { return v ? fixed(*v, 4) : std::string(); };
  for (const auto& row : rows) {
    const bool ok = usable(row);
    const auto& p = row.pooled;
    auto num = [&](auto v) { return ok ? std::to_string(v) : std::string(); };
    std::string note = row.note;
    for (char& c : note) {
      if (c == '"')
        c = '\'';
    }
    file << row.transport << ',' << row.mode << ',' << row.payload_bytes << ',' << row.subscribers << ','
         << num(p.p50_ns) << ',' << num(p.p90_ns) << ',' << num(p.p99_ns) << ',' << num(p.p999_ns) << ','
         << num(p.max_ns) << ',' << (ok ? fixed(p.mean_ns, 1) : "") << ',' << p.samples << ','
         << (ok ? fixed(row.throughput_hz, 1) : "") << ',' << row.skipped << ',' << row.retries << ',' << row.torn
         << ',' << row.applicable << ',' << row.failed << ',' << row.truncated << ',' << row.oversubscribed << ','
         << opt(row.p50_vs_posix_mq) << ',' << opt(row.p99_vs_posix_mq) << ',' << opt(row.p50_vs_floor) << ','
         << opt(row.p99_vs_floor) << ',' << num(row.publish_cost.p50_ns) << ',' << num(row.publish_cost.p99_ns) << ','
         << (ok ? fixed(row.subscriber_pss_kib, 0) : "") << ',' << row.used_bytes << ',' << opt(row.p50_vs_used_payload)
         << ',' << opt(row.p99_vs_used_payload) << ",\"" << note << "\"\n";
  }
  if (!file)
    throw std::runtime_error("error writing " + path);
}

}  // namespace shmsnap::bench
