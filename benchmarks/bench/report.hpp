// Presenting results: the aligned stdout table, the JSON records and the CSV file, plus
// the ratios every row carries to its matching posix_mq baseline and to the floor.
// Pure functions of the rows, called once at the end of a run.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "bench/harness.hpp"

namespace shmsnap::bench {

/// Fills each row's p50/p99 ratios to the posix_mq row and the floor row with the same
/// payload size and subscriber count (left empty where that row is n/a or missing). A
/// variable-size row (used_bytes < payload_bytes) is compared with the rows whose
/// payload is its used length, and also with its own transport and mode at that payload.
void attach_ratios(std::vector<RowResult>& rows);

/// The human table: one line per row, latencies in microseconds, n/a and flags spelled out.
void print_table(std::ostream& out, const std::vector<RowResult>& rows, const RunSettings& settings);

/// Writes a JSON array of records (keys in README; latencies in ns, null where n/a).
/// Throws std::runtime_error when the file cannot be written.
void write_json(const std::string& path, const std::vector<RowResult>& rows, const RunSettings& settings);

/// Writes the same records as CSV with a header line. Throws like write_json().
void write_csv(const std::string& path, const std::vector<RowResult>& rows);

}  // namespace shmsnap::bench
