#include "shmsnap/names.hpp"

#include <cstdlib>

#include "shmsnap/error.hpp"

namespace shmsnap {

bool is_valid_name(std::string_view name, std::size_t max_length) noexcept {
  if (name.empty() || name.size() > max_length || name == "." || name == "..") {
    return false;
  }
  for (char c : name) {
    const bool allowed =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!allowed) {
      return false;
    }
  }
  return true;
}

void validate_name(std::string_view what, std::string_view name, std::size_t max_length) {
  if (is_valid_name(name, max_length)) {
    return;
  }
  throw Error(Errc::invalid_argument, std::string("invalid ") + std::string(what) + " '" + std::string(name) +
                                          "': use 1 to " + std::to_string(max_length) +
                                          " characters from [A-Za-z0-9_.-], not '.' or '..'");
}

std::string resolve_prefix(std::string_view explicit_prefix) {
  std::string prefix(explicit_prefix);
  if (prefix.empty()) {
    const char* from_env = std::getenv("SHMSNAP_PREFIX");
    if (from_env != nullptr && *from_env == '\0') {
      throw Error(Errc::invalid_argument,
                  "SHMSNAP_PREFIX is set but empty: set it to a namespace such as 'shmsnap', or unset it to use "
                  "the default namespace");
    }
    prefix = from_env != nullptr ? from_env : std::string(default_prefix);
  }
  validate_name("prefix", prefix, max_prefix_length);
  return prefix;
}

std::string namespace_start(std::string_view prefix) {
  return std::string(prefix) + name_separator;
}

TopicNames::TopicNames(std::string_view prefix_in, std::string_view topic_in)
    : prefix(resolve_prefix(prefix_in)), topic(topic_in) {
  validate_name("topic", topic, max_topic_length);
}

std::string TopicNames::region() const {
  return "/" + namespace_start(prefix) + topic;
}

std::string TopicNames::control_queue() const {
  return region() + name_separator + "ctl";
}

std::string TopicNames::notify_queue(std::string_view subscriber_id) const {
  validate_name("subscriber id", subscriber_id, max_subscriber_id_length);
  return region() + name_separator + "sub" + name_separator + std::string(subscriber_id);
}

}  // namespace shmsnap
