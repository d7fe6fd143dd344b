// Wire format of the socket mode's attach handshake (docs/FORMAT.md, "Attaching
// over a socket"): framed, host-endian records on the Unix stream connection that
// is the subscriber's control channel. HELLO (subscriber, carrying its notify
// queue's descriptor), WELCOME (publisher, carrying the region's), REJECTED, BYE.
// Every received frame is validated by parse_attach_* before use: the peer may be
// anyone allowed to connect. Pure functions; any thread.
// In detail/: the library's plumbing, used by tools and tests, not a stable API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "shmsnap/detail/protocol.hpp"

namespace shmsnap {

inline constexpr std::uint16_t attach_magic = 0x4153;  // "SA" in little-endian memory
inline constexpr std::uint8_t attach_version = 1;
/// Every frame starts with this many bytes (AttachFrameHeader).
inline constexpr std::size_t attach_header_size = 8;
/// No body is longer: the reader's buffer is bounded before it reads a byte.
inline constexpr std::size_t attach_max_body_size = 256;
/// The longest REJECTED text (printable ASCII).
inline constexpr std::size_t attach_max_reason_length = 200;

enum class AttachKind : std::uint8_t {
  hello = 1,     ///< subscriber -> publisher, first frame; 1 descriptor (notify queue) or 0 (no notify)
  welcome = 2,   ///< publisher -> subscriber; exactly 1 descriptor (the sealed region)
  rejected = 3,  ///< publisher -> subscriber; then the publisher closes
  bye = 4,       ///< either side, last frame before a clean close (EOF without it: the peer died)
};

/// The first 8 bytes of every frame.
struct AttachFrameHeader {
  std::uint16_t magic = attach_magic;
  std::uint8_t version = attach_version;
  AttachKind kind = AttachKind::hello;
  std::uint32_t body_size = 0;  ///< bytes after the header
};
static_assert(sizeof(AttachFrameHeader) == attach_header_size);

struct AttachHello {
  std::uint32_t flags = 0;               ///< HelloFlags (bit 0: wants notify); other bits 0
  std::uint32_t schema_version = 0;      ///< expected; 0: any
  std::uint64_t schema_fingerprint = 0;  ///< expected; 0: any (an untyped subscriber)
  std::uint32_t payload_size = 0;        ///< expected snapshot size; 0: any
  std::string id;                        ///< a valid subscriber id
};

struct AttachWelcome {
  std::uint64_t epoch = 0;               ///< >= 1
  std::uint64_t region_size = 0;         ///< the size of the region descriptor sent along
  std::uint64_t schema_fingerprint = 0;  ///< the region header's
};

enum class AttachRejectReason : std::uint32_t {
  table_full = 1,       ///< max_subscribers registered
  id_in_use = 2,        ///< a live subscriber holds the id
  not_admitted = 3,     ///< the peer's uid/gid is outside the publisher's policy
  schema_mismatch = 4,  ///< the HELLO's expectation is not the topic's schema
  bad_queue = 5,        ///< the descriptor sent is not a writable notify queue of the right size
  bad_request = 6,      ///< a malformed or unexpected frame
};

struct AttachRejected {
  AttachRejectReason reason = AttachRejectReason::bad_request;
  std::string text;  ///< printable ASCII, at most attach_max_reason_length
};

enum class AttachByeReason : std::uint32_t {
  closing = 0,   ///< this end detaches (subscriber) or closes the topic (publisher)
  replaced = 1,  ///< publisher: a new epoch takes over; re-attach
};

struct AttachBye {
  AttachByeReason reason = AttachByeReason::closing;
};

using AttachFrame = std::variant<AttachHello, AttachWelcome, AttachRejected, AttachBye>;

/// Validates a frame header: magic, version, a known kind, and a body size that
/// kind allows. On success the caller reads exactly body_size more bytes.
[[nodiscard]] Parsed<AttachFrameHeader> parse_attach_header(std::span<const std::byte> bytes);

/// Validates one whole frame (header and body, nothing more or less): every field,
/// reserved bytes zero, ids and texts within their charset and length.
[[nodiscard]] Parsed<AttachFrame> parse_attach_frame(std::span<const std::byte> bytes);

/// The frame's bytes. A contract violation when a field is out of range (an invalid
/// id, a text too long or not printable): build texts with reason_text().
[[nodiscard]] std::vector<std::byte> encode_attach_frame(const AttachFrame& frame);

/// How many descriptors must travel with `frame` (HELLO: 1 when it asks for
/// notifications, else 0; WELCOME: 1; others 0). A receiver refuses any other count.
[[nodiscard]] std::size_t attach_descriptor_count(const AttachFrame& frame) noexcept;

/// `text` cut to attach_max_reason_length, every byte outside printable ASCII
/// replaced by '?': safe to put in a REJECTED.
[[nodiscard]] std::string reason_text(std::string_view text);

/// Stable lower-case name of a reason, e.g. "not_admitted".
[[nodiscard]] std::string_view to_string(AttachRejectReason reason) noexcept;

}  // namespace shmsnap
