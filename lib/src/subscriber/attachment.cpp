// The attachment (attachment.hpp): one attach through the path, the schema check
// between mapping the region and registering with its publisher, and detaching.
#include "subscriber/attachment.hpp"

#include <string_view>
#include <utility>

#include "shmsnap/error.hpp"

namespace shmsnap::detail {

Attachment::Attachment(std::unique_ptr<AttachPath> path, const SchemaInfo* schema, std::string topic)
    : path_(std::move(path)), schema_(schema), topic_(std::move(topic)) {}

Attachment::~Attachment() = default;

void Attachment::check_schema(const RegionReader& candidate) const {
  if (schema_ == nullptr || candidate.header().schema_fingerprint == schema_->fingerprint) {
    if (schema_ != nullptr && candidate.payload_size() < schema_->size) {
      throw Error(Errc::schema_mismatch, "topic '" + topic_ + "': region payload is smaller than " +
                                             std::string(schema_->name) + " with the same fingerprint");
    }
    return;
  }
  const std::string reason = schema_incompatibility(schema_->descriptor, candidate.descriptor());
  if (!reason.empty()) {
    throw Error(Errc::schema_mismatch, "topic '" + topic_ + "': this subscriber reads " + std::string(schema_->name) +
                                           " v" + std::to_string(schema_->version) + " but the publisher writes " +
                                           std::string(candidate.schema_name()) + " v" +
                                           std::to_string(candidate.header().schema_version) + ": " + reason);
  }
  if (candidate.payload_size() < schema_->size) {
    throw Error(Errc::schema_mismatch, "topic '" + topic_ + "': the publisher's snapshot (" +
                                           std::to_string(candidate.payload_size()) + " bytes) is smaller than " +
                                           std::string(schema_->name) + " (" + std::to_string(schema_->size) + ")");
  }
}

int Attachment::attach(std::int64_t deadline_ns) {
  RegionReader candidate = path_->open_region(notify_, deadline_ns);
  check_schema(candidate);
  const int death_watch = path_->register_with(candidate, notify_, deadline_ns);
  descriptor_.assign(candidate.descriptor());
  schema_name_.assign(candidate.schema_name());
  schema_seen_ = SchemaInfo{.name = schema_name_,
                            .version = candidate.header().schema_version,
                            .fingerprint = candidate.header().schema_fingerprint,
                            .size = candidate.payload_size(),
                            .descriptor = descriptor_};
  inode_ = candidate.inode();
  epoch_ = candidate.epoch();
  region_.emplace(std::move(candidate));
  return death_watch;
}

void Attachment::detach(bool say_bye) noexcept {
  path_->unregister(region(), say_bye);
  region_.reset();
}

void Attachment::release() noexcept {
  path_->release(notify_);
}

bool Attachment::successor_ready() noexcept {
  return path_->successor_ready(inode_, epoch_);
}

}  // namespace shmsnap::detail
