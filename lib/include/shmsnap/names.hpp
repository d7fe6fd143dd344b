// Names of the OS resources behind a topic (docs/ARCHITECTURE.md, "OS resources").
// Pure functions, callable from anywhere; validation throws shmsnap::Error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace shmsnap {

/// Longest topic name; with the longest prefix and id every derived name fits NAME_MAX.
inline constexpr std::size_t max_topic_length = 64;
/// Longest subscriber id.
inline constexpr std::size_t max_subscriber_id_length = 47;
/// Longest namespace prefix.
inline constexpr std::size_t max_prefix_length = 32;
/// Prefix used when neither an option nor SHMSNAP_PREFIX gives one.
inline constexpr std::string_view default_prefix = "shmsnap";
/// Joins the parts of a resource name. It is outside the name charset, so every
/// name splits one way only: no prefix, topic or id can spell another's resource.
inline constexpr char name_separator = ':';

/// True when every character is in [A-Za-z0-9_.-], the name is non-empty, at most
/// max_length long and not "." or ".." (which would escape the namespace).
[[nodiscard]] bool is_valid_name(std::string_view name, std::size_t max_length) noexcept;

/// Throws Errc::invalid_argument with the rule stated, naming `what` ("topic", ...).
void validate_name(std::string_view what, std::string_view name, std::size_t max_length);

/// The prefix to use: `explicit_prefix` if non-empty, else $SHMSNAP_PREFIX, else
/// default_prefix. Validated. A $SHMSNAP_PREFIX that is set but empty is refused,
/// rather than silently meaning the shared default namespace.
[[nodiscard]] std::string resolve_prefix(std::string_view explicit_prefix);

/// "<prefix>:": how every resource name of `prefix` starts (without the '/'), for
/// listing a namespace. `prefix` must be resolved.
[[nodiscard]] std::string namespace_start(std::string_view prefix);

/// The resource names of one topic.
struct TopicNames {
  std::string prefix;
  std::string topic;

  /// Validates prefix and topic.
  TopicNames(std::string_view prefix_in, std::string_view topic_in);

  /// "/<prefix>:<topic>": the snapshot region (shm_open).
  [[nodiscard]] std::string region() const;
  /// "/<prefix>:<topic>:ctl": the control queue, subscribers to publisher.
  [[nodiscard]] std::string control_queue() const;
  /// "/<prefix>:<topic>:sub:<id>": one subscriber's notify queue. Validates id.
  [[nodiscard]] std::string notify_queue(std::string_view subscriber_id) const;
};

}  // namespace shmsnap
