// A subscriber's attachment: what it reached through its AttachPath and checked.
// Owns the path, the mapping of the followed region, the schema it carries (the
// reader's expectation checked against it), the notify queue the publisher writes,
// and the region's identity (inode, epoch) that tells a successor from the dead
// one. The engine (UntypedSubscriber::State) calls it on the subscriber's thread;
// the registration itself (HELLO/WELCOME/BYE, its nonce) is the path's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "shmsnap/detail/message_queue.hpp"
#include "shmsnap/region.hpp"
#include "shmsnap/schema.hpp"
#include "subscriber/attach_path.hpp"

namespace shmsnap::detail {

class Attachment {
 public:
  /// `schema` (nullptr: any) is what the reader expects; the topic names the errors.
  Attachment(std::unique_ptr<AttachPath> path, const SchemaInfo* schema, std::string topic);
  ~Attachment();
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;
  Attachment(Attachment&&) = delete;
  Attachment& operator=(Attachment&&) = delete;

  /// Opens, checks and registers with the topic's publisher, replacing nothing until
  /// all of it succeeded. Returns the descriptor to watch for that publisher's death
  /// (owned by the caller; -1: none). Throws Error (schema_mismatch, not_found, ...).
  [[nodiscard]] int attach(std::int64_t deadline_ns);
  /// Ends the registration (BYE when `say_bye`) and unmaps the region; the notify
  /// queue stays open for the next attach.
  void detach(bool say_bye) noexcept;
  /// Closes and removes the notify queue (at the end, after detach).
  void release() noexcept;
  /// While detached: whether a successor of the region last followed is there.
  [[nodiscard]] bool successor_ready() noexcept;

  /// The region followed now, or nullptr while detached.
  [[nodiscard]] const RegionReader* region() const noexcept { return region_ ? &*region_ : nullptr; }
  [[nodiscard]] MessageQueue& notify() noexcept { return notify_; }
  [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }
  [[nodiscard]] pid_t publisher_pid() const noexcept { return region_ ? region_->publisher_pid() : 0; }
  /// The descriptor JSON and schema of the region last attached to.
  [[nodiscard]] const std::string& descriptor() const noexcept { return descriptor_; }
  [[nodiscard]] const SchemaInfo& schema_seen() const noexcept { return schema_seen_; }

 private:
  void check_schema(const RegionReader& candidate) const;

  std::unique_ptr<AttachPath> path_;
  const SchemaInfo* schema_;  // the reader's; nullptr accepts any
  std::string topic_;
  MessageQueue notify_;  // non-blocking: drained after a wake-up; kept across re-attaches
  std::optional<RegionReader> region_;
  std::string descriptor_;
  std::string schema_name_;  // owns the text that schema_seen_ views
  SchemaInfo schema_seen_;   // the attached region's schema (name, version, fingerprint, size)
  ino_t inode_ = 0;
  std::uint64_t epoch_ = 0;
};

}  // namespace shmsnap::detail
