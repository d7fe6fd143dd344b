// robot.pose: a robot driving a figure eight (a lemniscate, 4 m across, one lap
// per 20 s) with heading along its path and a position covariance
// that grows between simulated landmark fixes every 5 s.
#include <cmath>
#include <numbers>
#include <random>

#include <robot_pose.hpp>

#include "generator.hpp"

namespace shmsnap::app {
namespace {

class RobotPoseGenerator final : public Generator {
 public:
  RobotPoseGenerator(std::string_view frame, std::uint64_t seed) : random_(seed) { copy_text(pose_.frame_id, frame); }

  const SchemaInfo& schema() const noexcept override { return robot::Pose::shmsnap_schema; }

  std::span<const std::byte> next(const Instant& now) override {
    if (start_ns_ == 0) {
      start_ns_ = now.monotonic_ns;
    }
    // Monotonic: a wall clock stepped back would make `seconds` negative, and so
    // the covariance below.
    const double seconds = static_cast<double>(now.monotonic_ns - start_ns_) / 1e9;
    const double phase = 2.0 * std::numbers::pi * seconds / lap_seconds;
    std::normal_distribution<double> jitter(0.0, 0.002);
    // Lemniscate of Gerono: x = a sin t, y = a sin t cos t.
    pose_.position.x = half_width * std::sin(phase) + jitter(random_);
    pose_.position.y = half_width * std::sin(phase) * std::cos(phase) + jitter(random_);
    pose_.position.z = 0.0;
    const double dx = std::cos(phase);
    const double dy = std::cos(2.0 * phase);
    const double yaw = std::atan2(dy, dx);
    pose_.orientation = {0.0, 0.0, std::sin(yaw / 2.0), std::cos(yaw / 2.0)};
    pose_.stamp.sec = now.realtime_ns / 1'000'000'000;
    pose_.stamp.nanosec = static_cast<std::uint32_t>(now.realtime_ns % 1'000'000'000);
    // Dead reckoning drifts until the next fix resets the uncertainty.
    const double since_fix = std::fmod(seconds, fix_seconds);
    const double variance = 0.0004 + 0.0008 * since_fix;
    for (int row = 0; row < 6; ++row) {
      for (int column = 0; column < 6; ++column) {
        pose_.covariance[row][column] = 0.0;
      }
    }
    pose_.covariance[0][0] = variance;
    pose_.covariance[1][1] = variance;
    pose_.covariance[2][2] = 1e-6;
    pose_.covariance[0][1] = pose_.covariance[1][0] = 0.25 * variance;
    pose_.covariance[3][3] = pose_.covariance[4][4] = 1e-4;
    pose_.covariance[5][5] = 0.001 + 0.0005 * since_fix;
    return std::as_bytes(std::span(&pose_, 1));
  }

 private:
  static constexpr double lap_seconds = 20.0;
  static constexpr double half_width = 2.0;
  static constexpr double fix_seconds = 5.0;
  std::mt19937_64 random_;
  std::int64_t start_ns_ = 0;
  robot::Pose pose_{};
};

}  // namespace

std::unique_ptr<Generator> make_robot_pose_generator(std::string_view frame, std::uint64_t seed) {
  return std::make_unique<RobotPoseGenerator>(frame, seed);
}

}  // namespace shmsnap::app
