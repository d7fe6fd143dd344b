// The PNG figure: latency CDF per transport, p50/p99 vs payload size and vs subscriber
// count. Drawn by gnuplot run as a subprocess on a generated script; without gnuplot
// the plot is skipped with a message (never an error). Called once at the end of a run.
#pragma once

#include <string>
#include <vector>

#include "bench/harness.hpp"

namespace shmsnap::bench {

/// Outcome of write_plot().
struct PlotOutcome {
  bool written = false;
  std::string message;  ///< what was written, or why nothing was
};

/// Renders `rows` into `png_path`; the gnuplot script is kept next to it (.gp) so the
/// figure can be restyled without rerunning the benchmark.
[[nodiscard]] PlotOutcome write_plot(const std::string& png_path, const std::vector<RowResult>& rows);

}  // namespace shmsnap::bench
