#include "generator.hpp"

namespace shmsnap::app {

std::vector<std::string> generator_names() {
  return {"market.quote_book", "robot.pose", "service.health"};
}

std::unique_ptr<Generator> make_generator(std::string_view schema_name, std::string_view label, std::uint64_t seed) {
  if (schema_name == "market.quote_book") {
    return make_quote_book_generator(label, seed);
  }
  if (schema_name == "robot.pose") {
    return make_robot_pose_generator(label, seed);
  }
  if (schema_name == "service.health") {
    return make_service_health_generator(label, seed);
  }
  return nullptr;
}

}  // namespace shmsnap::app
