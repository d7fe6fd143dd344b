// service.health: a service that starts, serves a fluctuating request rate with
// a small error ratio, degrades for a while when errors cluster, and restarts
// now and then, as a dashboard would see it.
#include <array>
#include <random>

#include <service_health.hpp>

#include "generator.hpp"

namespace shmsnap::app {
namespace {

using Status = service::Health::Status;

class ServiceHealthGenerator final : public Generator {
 public:
  ServiceHealthGenerator(std::string_view name, std::uint64_t seed) : random_(seed) {
    copy_text(health_.service, name);
    health_.status = Status::starting;
  }

  const SchemaInfo& schema() const noexcept override { return service::Health::shmsnap_schema; }

  std::span<const std::byte> next(const Instant& now) override {
    // Uptime on the monotonic clock: a wall clock stepped back would wrap it.
    if (started_ns_ == 0) {
      started_ns_ = now.monotonic_ns;
    }
    ++steps_;
    if (std::bernoulli_distribution(0.0005)(random_)) {
      // A crash and restart: counters start over, as the service's own would.
      ++health_.restarts;
      started_ns_ = now.monotonic_ns;
      health_.requests = 0;
      health_.errors = 0;
      health_.status = Status::starting;
      steps_ = 1;
    }
    health_.uptime_ns = static_cast<std::uint64_t>(now.monotonic_ns - started_ns_);
    if (health_.status == Status::starting && steps_ > 3) {
      health_.status = Status::ok;
    }
    if (health_.status != Status::starting) {
      const std::uint64_t served = std::poisson_distribution<std::uint64_t>(120.0)(random_);
      const std::uint64_t failed = std::binomial_distribution<std::uint64_t>(served, error_ratio_)(random_);
      health_.requests += served;
      health_.errors += failed;
      if (failed > 0) {
        static constexpr std::array<const char*, 4> messages{"upstream timeout after 250 ms",
                                                             "connection reset by peer", "database deadlock, retried",
                                                             "invalid request payload"};
        copy_text(health_.last_error, messages[std::uniform_int_distribution<std::size_t>(0, 3)(random_)]);
        health_.last_error_time_ns = now.realtime_ns;
      }
      // Error bursts degrade the service for a while; it recovers on its own.
      if (std::bernoulli_distribution(0.01)(random_)) {
        error_ratio_ = error_ratio_ > 0.01 ? 0.002 : 0.08;
      }
      health_.status = error_ratio_ > 0.05 ? Status::degraded : Status::ok;
    }
    return std::as_bytes(std::span(&health_, 1));
  }

 private:
  std::mt19937_64 random_;
  std::int64_t started_ns_ = 0;
  std::uint64_t steps_ = 0;
  double error_ratio_ = 0.002;
  service::Health health_{};
};

}  // namespace

std::unique_ptr<Generator> make_service_health_generator(std::string_view service, std::uint64_t seed) {
  return std::make_unique<ServiceHealthGenerator>(service, seed);
}

}  // namespace shmsnap::app
