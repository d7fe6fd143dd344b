// Synthetic data for the bundled schemas: one Generator per schema (one source
// file each), picked by schema name. A generator is a small simulation advanced
// once per publish; it is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmsnap/schema.hpp"

namespace shmsnap::app {

/// One moment on both clocks: simulations measure elapsed time on the monotonic
/// clock (an operator or NTP stepping the wall clock must not run them backwards
/// or by hours) and stamp data with the wall clock.
struct Instant {
  std::int64_t monotonic_ns = 0;
  std::int64_t realtime_ns = 0;
};

class Generator {
 public:
  virtual ~Generator() = default;

  /// The schema of the snapshots next() returns.
  [[nodiscard]] virtual const SchemaInfo& schema() const noexcept = 0;
  /// Advances the simulation by one step to `now` and returns the new snapshot
  /// (schema().size bytes, valid until the next call).
  [[nodiscard]] virtual std::span<const std::byte> next(const Instant& now) = 0;
};

/// The schema names make_generator() accepts, e.g. "market.quote_book".
[[nodiscard]] std::vector<std::string> generator_names();

/// A generator for `schema_name` ("market.quote_book", "robot.pose",
/// "service.health"); `label` names the instrument / frame / service in the data
/// and `seed` makes runs repeatable. nullptr for an unknown name.
[[nodiscard]] std::unique_ptr<Generator> make_generator(std::string_view schema_name, std::string_view label,
                                                        std::uint64_t seed);

/// One generator per schema, defined in its own file.
[[nodiscard]] std::unique_ptr<Generator> make_quote_book_generator(std::string_view symbol, std::uint64_t seed);
[[nodiscard]] std::unique_ptr<Generator> make_robot_pose_generator(std::string_view frame, std::uint64_t seed);
[[nodiscard]] std::unique_ptr<Generator> make_service_health_generator(std::string_view service, std::uint64_t seed);

/// Copies `text` into a fixed char[N] field, NUL-padded and cut to fit.
template <std::size_t N>
void copy_text(char (&field)[N], std::string_view text) noexcept {
  const std::size_t length = text.size() < N - 1 ? text.size() : N - 1;
  for (std::size_t index = 0; index < N; ++index) {
    field[index] = index < length ? text[index] : '\0';
  }
}

}  // namespace shmsnap::app
