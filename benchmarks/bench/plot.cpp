// gnuplot script generation and invocation (see plot.hpp).
#include "bench/plot.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

extern char** environ;

namespace shmsnap::bench {
namespace {

bool usable(const RowResult& row) {
  return row.applicable && !row.failed && row.pooled.samples > 0;
}

// A variable-size row is its own series, named by its used length: its x is the
// topic's capacity, its latency that of moving the used part.
std::string series_name(const RowResult& row) {
  std::string name = row.mode == "blocking" ? row.transport : row.transport + " " + row.mode;
  if (row.used_bytes != row.payload_bytes)
    name.append(" used ").append(std::to_string(row.used_bytes)).append(" B");
  return name;
}

// gnuplot datablock names allow only [A-Za-z0-9_].
std::string block_name(const std::string& prefix, std::size_t index) {
  return "$" + prefix + std::to_string(index);
}

double micros(std::int64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

// Tail "nines": 0 = p0, 1 = p90, 2 = p99, 3 = p99.9 ... The CDF is drawn on this axis
// so the tail that matters is as wide as the body.
double nines(double fraction, std::size_t samples) {
  const double floor_tail = 0.5 / static_cast<double>(std::max<std::size_t>(samples, 1));
  return -std::log10(std::max(1.0 - fraction, floor_tail));
}

struct Panel {
  std::ostringstream data;
  std::vector<std::string> plots;
};

// Series keyed by name, each a list of (x, p50, p99) points sorted by x.
using SeriesPoints = std::map<std::string, std::map<double, std::pair<double, double>>>;

// One colour per series across all three panels, in report order.
using Colors = std::map<std::string, std::size_t>;

// Sixteen distinguishable colours: gnuplot's default cycle repeats after eight, and a
// full run has more series than that.
constexpr const char* palette[] = {"#9400d3", "#009e73", "#56b4e9", "#e69f00", "#0072b2", "#d55e00",
                                   "#cc79a7", "#000000", "#e51e10", "#7f7f00", "#00bfbf", "#8b4513",
                                   "#ff69b4", "#2e8b57", "#4169e1", "#808080"};

std::string color_of(const Colors& colors, const std::string& name) {
  const auto found = colors.find(name);
  const std::size_t index = found == colors.end() ? 0 : found->second;
  return std::string("lc rgb '") + palette[index % std::size(palette)] + "'";
}

void emit_series(Panel& panel, const std::string& prefix, const SeriesPoints& series, const Colors& colors) {
  std::size_t index = 0;
  for (const auto& [name, points] : series) {
    const std::string block = block_name(prefix, index);
    panel.data << block << " << EOD\n";
    for (const auto& [x, latency] : points)
      panel.data << x << ' ' << latency.first << ' ' << latency.second << '\n';
    panel.data << "EOD\n";
    const std::string color = color_of(colors, name);
    panel.plots.push_back(block + " using 1:2 with linespoints lw 2 " + color + " dt 1 title '" + name + " p50'");
    panel.plots.push_back(block + " using 1:3 with linespoints lw 1 " + color + " dt 2 title '" + name + " p99'");
    ++index;
  }
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string joined;
  for (const auto& part : parts)
    joined += (joined.empty() ? "" : separator) + part;
  return joined;
}

// The gnuplot command for one panel: its plots, or an empty cell when it has none
// (a bare `plot` with no series is an error).
std::string plot_command(const std::vector<std::string>& plots) {
  if (plots.empty())
    return "set multiplot next\n";
  return "plot " + join(plots, ", \\\n  ") + "\n";
}

int run_gnuplot(const std::string& script_path) {
  std::string program = "gnuplot";
  std::string script = script_path;
  char* argv[] = {program.data(), script.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "gnuplot", nullptr, nullptr, argv, environ) != 0)
    return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

PlotOutcome write_plot(const std::string& png_path, const std::vector<RowResult>& rows) {
  std::vector<const RowResult*> good;
  for (const auto& row : rows) {
    if (usable(row))
      good.push_back(&row);
  }
  if (good.empty())
    return {false, "plot skipped: no row has samples"};
  std::size_t min_payload = SIZE_MAX;
  int min_subscribers = INT32_MAX;
  for (const auto* row : good) {
    min_payload = std::min(min_payload, row->payload_bytes);
    min_subscribers = std::min(min_subscribers, row->subscribers);
  }

  Colors colors;
  for (const auto* row : good)
    colors.emplace(series_name(*row), colors.size());

  // One CDF panel per payload size, at the smallest subscriber count.
  std::vector<std::size_t> payloads;
  for (const auto* row : good) {
    if (std::find(payloads.begin(), payloads.end(), row->payload_bytes) == payloads.end())
      payloads.push_back(row->payload_bytes);
  }
  std::sort(payloads.begin(), payloads.end());
  std::vector<Panel> cdfs(payloads.size());
  std::size_t index = 0;
  for (std::size_t panel = 0; panel < payloads.size(); ++panel) {
    for (const auto* row : good) {
      if (row->payload_bytes != payloads[panel] || row->subscribers != min_subscribers)
        continue;
      const std::string block = block_name("cdf", index++);
      cdfs[panel].data << block << " << EOD\n";
      for (const auto& point : row->cdf)
        cdfs[panel].data << micros(point.latency_ns) << ' ' << nines(point.fraction, row->pooled.samples) << '\n';
      cdfs[panel].data << "EOD\n";
      cdfs[panel].plots.push_back(block + " using 1:2 with lines lw 2 " + color_of(colors, series_name(*row)) +
                                  " title '" + series_name(*row) + "'");
    }
  }

  // p50/p99 against payload size (fewest subscribers) and against subscriber count
  // (smallest payload); publish() caller cost against subscriber count.
  SeriesPoints by_payload;
  SeriesPoints by_subscribers;
  SeriesPoints publish_by_subscribers;
  for (const auto* row : good) {
    const auto latency = std::make_pair(micros(row->pooled.p50_ns), micros(row->pooled.p99_ns));
    if (row->subscribers == min_subscribers)
      by_payload[series_name(*row)][static_cast<double>(row->payload_bytes)] = latency;
    if (row->payload_bytes == min_payload) {
      by_subscribers[series_name(*row)][row->subscribers] = latency;
      if (row->publish_cost.samples > 0) {
        publish_by_subscribers[series_name(*row)][row->subscribers] =
            std::make_pair(micros(row->publish_cost.p50_ns), micros(row->publish_cost.p99_ns));
      }
    }
  }
  Panel payload_panel;
  emit_series(payload_panel, "pay", by_payload, colors);
  Panel subscriber_panel;
  emit_series(subscriber_panel, "sub", by_subscribers, colors);
  Panel publish_panel;
  emit_series(publish_panel, "pub", publish_by_subscribers, colors);

  const std::string script_path = png_path + ".gp";
  std::ofstream script(script_path);
  if (!script)
    return {false, "plot skipped: cannot write " + script_path};
  const std::size_t panels = payloads.size() + 3;
  const std::size_t columns = 3;
  const std::size_t rows_of_panels = (panels + columns - 1) / columns;
  script << "# generated by shmsnap-bench; run `gnuplot " << script_path << "` to redraw\n"
         << "set terminal pngcairo size 2100," << 700 * rows_of_panels << " font 'sans,10' noenhanced\n"
         << "set output '" << png_path << "'\n";
  for (const auto& panel : cdfs)
    script << panel.data.str();
  script << payload_panel.data.str() << subscriber_panel.data.str() << publish_panel.data.str()
         << "set multiplot layout " << rows_of_panels << "," << columns << "\n"
         << "set grid\nset key top left font ',8'\n";
  for (std::size_t panel = 0; panel < payloads.size(); ++panel) {
    script << "set logscale x\nunset logscale y\n"
           << "set title 'latency CDF, " << payloads[panel] << " B, " << min_subscribers << " subscriber(s)'\n"
           << "set xlabel 'one-way latency (us, log)'\nset ylabel 'percentile'\n"
           << "set ytics ('p0' 0, 'p90' 1, 'p99' 2, 'p99.9' 3, 'p99.99' 4, 'p99.999' 5)\n"
           << plot_command(cdfs[panel].plots);
  }
  script << "set ytics auto\nset logscale x\nset logscale y\nset ylabel 'latency (us, log)'\n"
         << "set title 'p50 (solid) and p99 (dashed) vs payload, " << min_subscribers << " subscriber(s)'\n"
         << "set xlabel 'payload bytes (log)'\n"
         << plot_command(payload_panel.plots) << "set logscale x 2\n"
         << "set title 'p50 (solid) and p99 (dashed) vs subscribers, " << min_payload << " B'\n"
         << "set xlabel 'subscribers (log2)'\n"
         << plot_command(subscriber_panel.plots)
         << "set title 'publish() caller cost p50 (solid) and p99 (dashed) vs subscribers, " << min_payload
         << " B'\nset ylabel 'publish() (us, log)'\n"
         << plot_command(publish_panel.plots) << "unset multiplot\n";
  script.close();
  if (!script)
    return {false, "plot skipped: error writing " + script_path};

  const int status = run_gnuplot(script_path);
  if (status == -1)
    return {false, "plot skipped: gnuplot not found on PATH (install gnuplot-nox); script kept at " + script_path};
  if (status != 0)
    return {false, "plot skipped: gnuplot exited with " + std::to_string(status) + " on " + script_path};
  return {true, "plot written to " + png_path + " (script " + script_path + ")"};
}

}  // namespace shmsnap::bench
