// Test helper of the Python suite (not installed): what only C++ knows.
//   layout                    prints {schema: {"size": sizeof, "fields": {path: [offsetof, sizeof]}}}
//                             for the bundled schemas and the all-types test schema
//   publish-all-types TOPIC PREFIX
//                             publishes one known AllTypes snapshot, prints "ready seq=N",
//                             then keeps the topic until stdin closes
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "market_quote_book.hpp"
#include "robot_pose.hpp"
#include "service_health.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap_test_all_types.hpp"

namespace {

template <class T>
nlohmann::ordered_json layout_of() {
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (const shmsnap::FieldInfo& field : T::shmsnap_fields()) {
    fields[std::string(field.path)] = {field.offset, field.size};
  }
  return {{"size", sizeof(T)}, {"fields", fields}};
}

shmsnap_test::AllTypes known_value() {
  using shmsnap_test::AllTypes;
  AllTypes value{};
  value.b = true;
  value.i8v = -8;
  value.i16v = -1600;
  value.i32v = -320000;
  value.i64v = -6400000000LL;
  value.u8v = 200;
  value.u16v = 65000;
  value.u32v = 4000000000U;
  value.u64v = 18000000000000000000ULL;
  value.f32v = 1.5F;
  value.f64v = -2.25;
  std::memcpy(value.text, "hello", 5);  // fills char[5] exactly: no NUL
  std::memcpy(value.names[0], "ab", 2);
  std::memcpy(value.names[2], "wxyz", 4);
  value.flags[1] = true;
  value.shorts[0] = -1;
  value.shorts[2] = 300;
  value.floats[1] = 0.5F;
  value.matrix[1][2] = 12.0;
  value.matrix[0][1] = 1.0;
  value.cube[1][0][1] = 5;
  value.mode = AllTypes::Mode::reverse;
  value.modes[1] = AllTypes::Mode::forward;
  value.big = AllTypes::Big::huge;
  value.outer.id = 7;
  value.outer.inner.flag = true;
  value.outer.inner.value = 3.5;
  value.outer.inner.mode = AllTypes::Mode::forward;
  value.outer.inners[1].value = -1.0;
  std::memcpy(value.outer.tag, "xy", 2);
  value.outers[1].id = 9;
  value.outers[1].inners[0].mode = AllTypes::Mode::reverse;
  value.tail = 255;
  return value;
}

int publish_all_types(const std::string& topic, const std::string& prefix) {
  auto publisher = shmsnap::Publisher<shmsnap_test::AllTypes>::create(topic, {.prefix = prefix});
  const std::uint64_t seq = publisher.publish(known_value());
  std::cout << "ready seq=" << seq << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  publisher.shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "layout") {
      const nlohmann::ordered_json layouts{
          {shmsnap_test::AllTypes::shmsnap_schema.name, layout_of<shmsnap_test::AllTypes>()},
          {market::QuoteBook::shmsnap_schema.name, layout_of<market::QuoteBook>()},
          {robot::Pose::shmsnap_schema.name, layout_of<robot::Pose>()},
          {service::Health::shmsnap_schema.name, layout_of<service::Health>()},
      };
      std::cout << layouts.dump() << std::endl;
      return 0;
    }
    if (command == "publish-all-types" && argc == 4) {
      return publish_all_types(argv[2], argv[3]);
    }
    std::cerr << "usage: shmsnap-py-test-helper layout | publish-all-types TOPIC PREFIX\n";
    return 2;
  } catch (const shmsnap::Error& error) {
    std::cerr << "shmsnap-py-test-helper: " << error.what() << "\n";
    return 1;
  }
}
