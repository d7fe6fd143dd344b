// FoxgloveChannels: the server-wide mapping from topics to Foxglove channel ids and
// their JSON Schemas (made once per descriptor by json_schema_from_descriptor). A
// topic keeps its id while its descriptor stays the same; a new descriptor gets a
// new id, so a client never decodes with a stale schema. A descriptor refused once
// (here or by the sampler) is not parsed again while it stays the same, and one
// update parses at most a few: hostile regions cannot starve the I/O thread that
// answers every HTTP request. I/O thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "foxglove_protocol.hpp"
#include "topic_model.hpp"

namespace shmsnap::serve {

class FoxgloveChannels {
 public:
  /// Brings the channels in line with `snapshot`'s valid topics.
  void update(const ModelSnapshot& snapshot);
  /// The current channels by id.
  [[nodiscard]] const std::map<std::uint32_t, foxglove::Channel>& channels() const noexcept { return channels_; }
  /// Descriptors parsed into JSON Schemas so far (for the server's metrics).
  [[nodiscard]] std::uint64_t descriptor_parses() const noexcept { return parses_; }

 private:
  struct Known {
    std::uint32_t id = 0;
    std::string descriptor;
  };
  std::map<std::string, Known> by_topic_;
  std::map<std::string, std::string> refused_;  // topic -> the descriptor json_schema_from_descriptor refused
  std::uint64_t parses_ = 0;
  std::map<std::uint32_t, foxglove::Channel> channels_;
  std::uint32_t next_id_ = 1;
};

}  // namespace shmsnap::serve
