// libFuzzer target: topic, prefix and subscriber-id validation (is_valid_name,
// validate_name, TopicNames), which every name from a command line, an
// environment variable or a control message goes through. Input: the first byte
// picks a length bound, the rest is "prefix\0topic\0id". Property: a name is
// accepted exactly when it is 1..max characters of [A-Za-z0-9_.-] and not "." or
// ".."; every derived resource name is one '/'-led component within NAME_MAX that
// starts with the topic's own region name.
#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"

namespace {

void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

bool reference_valid(std::string_view name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length || name == "." || name == "..") {
    return false;
  }
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    const bool allowed =
        (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '_' || u == '.' || u == '-';
    if (!allowed) {
      return false;
    }
  }
  return true;
}

bool one_component(const std::string& name) {
  return name.size() >= 2 && name.front() == '/' && name.find('/', 1) == std::string::npos &&
         name.find('\0') == std::string::npos && name.size() <= NAME_MAX;
}

std::string_view next_part(std::string_view& rest) {
  const std::size_t end = rest.find('\0');
  const std::string_view part = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t bound = data[0] % 80;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string_view whole = rest;
  require(shmsnap::is_valid_name(whole, bound) == reference_valid(whole, bound));

  const std::string_view prefix = next_part(rest);
  const std::string_view topic = next_part(rest);
  const std::string_view id = next_part(rest);
  require(shmsnap::is_valid_name(id, shmsnap::max_subscriber_id_length) ==
          reference_valid(id, shmsnap::max_subscriber_id_length));
  try {
    shmsnap::validate_name("topic", topic, shmsnap::max_topic_length);
    require(reference_valid(topic, shmsnap::max_topic_length));
  } catch (const shmsnap::Error& failure) {
    require(failure.code() == shmsnap::Errc::invalid_argument);
    require(!reference_valid(topic, shmsnap::max_topic_length));
  }
  if (prefix.empty()) {
    return 0;  // an empty prefix means $SHMSNAP_PREFIX: not an input under test here
  }
  try {
    const shmsnap::TopicNames names(prefix, topic);
    require(reference_valid(prefix, shmsnap::max_prefix_length) && reference_valid(topic, shmsnap::max_topic_length));
    const std::string region = names.region();
    require(one_component(region));
    require(region == "/" + std::string(prefix) + shmsnap::name_separator + std::string(topic));
    const std::string control = names.control_queue();
    require(one_component(control) && control.compare(0, region.size(), region) == 0);
    try {
      const std::string queue = names.notify_queue(id);
      require(reference_valid(id, shmsnap::max_subscriber_id_length));
      require(one_component(queue) &&
              queue == region + shmsnap::name_separator + "sub" + shmsnap::name_separator + std::string(id));
      // Injective: the separator is outside the charset, so the parts split back.
      require(std::count(queue.begin(), queue.end(), shmsnap::name_separator) == 3);
    } catch (const shmsnap::Error& failure) {
      require(failure.code() == shmsnap::Errc::invalid_argument);
      require(!reference_valid(id, shmsnap::max_subscriber_id_length));
    }
  } catch (const shmsnap::Error& failure) {
    require(failure.code() == shmsnap::Errc::invalid_argument);
    require(!reference_valid(prefix, shmsnap::max_prefix_length) || !reference_valid(topic, shmsnap::max_topic_length));
  }
  return 0;
}
