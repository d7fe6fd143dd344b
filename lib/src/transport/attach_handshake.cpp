#include "shmsnap/detail/attach_handshake.hpp"

#include <cstring>
#include <type_traits>
#include <utility>

#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"

namespace shmsnap {
namespace {

// Body layouts (docs/FORMAT.md, "Attaching over a socket"): fixed parts, then the
// variable text of HELLO (the id) and REJECTED (the reason).
constexpr std::size_t hello_fixed_size = 24;
constexpr std::size_t welcome_size = 24;
constexpr std::size_t rejected_fixed_size = 8;
constexpr std::size_t bye_size = 4;
constexpr std::uint32_t known_hello_flags = hello_wants_notify;

struct BodyBounds {
  std::size_t least;
  std::size_t most;
};

// The body sizes a kind allows; {0, 0} for an unknown kind.
constexpr BodyBounds body_bounds(AttachKind kind) noexcept {
  switch (kind) {
    case AttachKind::hello:
      return {hello_fixed_size + 1, hello_fixed_size + max_subscriber_id_length};
    case AttachKind::welcome:
      return {welcome_size, welcome_size};
    case AttachKind::rejected:
      return {rejected_fixed_size, rejected_fixed_size + attach_max_reason_length};
    case AttachKind::bye:
      return {bye_size, bye_size};
  }
  return {0, 0};
}
static_assert(hello_fixed_size + max_subscriber_id_length <= attach_max_body_size);
static_assert(rejected_fixed_size + attach_max_reason_length <= attach_max_body_size);

bool printable(std::string_view text) noexcept {
  for (const char byte : text) {
    if (byte < ' ' || byte > '~') {
      return false;
    }
  }
  return true;
}

// Reads fixed-size fields out of a body whose size the caller has checked, so
// every offset here lies inside it (SHMSNAP_EXPECTS says so if not).
class BodyReader {
 public:
  explicit BodyReader(std::span<const std::byte> body) noexcept : body_(body) {}

  template <class Value>
  [[nodiscard]] Value read(std::size_t offset) const noexcept {
    static_assert(std::is_trivially_copyable_v<Value>);
    SHMSNAP_EXPECTS(offset <= body_.size() && sizeof(Value) <= body_.size() - offset);
    Value value;
    std::memcpy(&value, body_.data() + offset, sizeof value);
    return value;
  }
  [[nodiscard]] std::string_view text(std::size_t offset, std::size_t length) const noexcept {
    SHMSNAP_EXPECTS(offset <= body_.size() && length <= body_.size() - offset);
    return {reinterpret_cast<const char*>(body_.data()) + offset, length};
  }

 private:
  std::span<const std::byte> body_;
};

class BodyWriter {
 public:
  explicit BodyWriter(std::vector<std::byte>& bytes) noexcept : bytes_(bytes) {}

  template <class Value>
  void write(const Value& value) {
    static_assert(std::is_trivially_copyable_v<Value>);
    const auto* first = reinterpret_cast<const std::byte*>(&value);
    bytes_.insert(bytes_.end(), first, first + sizeof value);
  }
  void text(std::string_view text) {
    const auto* first = reinterpret_cast<const std::byte*>(text.data());
    bytes_.insert(bytes_.end(), first, first + text.size());
  }

 private:
  std::vector<std::byte>& bytes_;
};

Parsed<AttachFrame> parse_body(AttachKind kind, std::span<const std::byte> body) {
  const auto invalid = [](std::string problem) { return Parsed<AttachFrame>{std::nullopt, std::move(problem)}; };
  const BodyReader reader(body);
  switch (kind) {
    case AttachKind::hello: {
      AttachHello hello;
      hello.flags = reader.read<std::uint32_t>(0);
      hello.schema_version = reader.read<std::uint32_t>(4);
      hello.schema_fingerprint = reader.read<std::uint64_t>(8);
      hello.payload_size = reader.read<std::uint32_t>(16);
      const auto id_length = reader.read<std::uint8_t>(20);
      if ((hello.flags & ~known_hello_flags) != 0) {
        return invalid("HELLO with unknown flags " + std::to_string(hello.flags));
      }
      if (reader.read<std::uint8_t>(21) != 0 || reader.read<std::uint16_t>(22) != 0) {
        return invalid("HELLO with non-zero reserved bytes");
      }
      if (hello_fixed_size + std::size_t{id_length} != body.size()) {
        return invalid("HELLO whose id length " + std::to_string(id_length) + " disagrees with its body of " +
                       std::to_string(body.size()) + " bytes");
      }
      const std::string_view id = reader.text(hello_fixed_size, id_length);
      if (!is_valid_name(id, max_subscriber_id_length)) {
        return invalid("HELLO with an invalid subscriber id");
      }
      hello.id = std::string(id);
      return {AttachFrame{std::move(hello)}, {}};
    }
    case AttachKind::welcome: {
      AttachWelcome welcome;
      welcome.epoch = reader.read<std::uint64_t>(0);
      welcome.region_size = reader.read<std::uint64_t>(8);
      welcome.schema_fingerprint = reader.read<std::uint64_t>(16);
      if (welcome.epoch == 0 || welcome.region_size == 0) {
        return invalid("WELCOME with epoch or region size 0");
      }
      return {AttachFrame{welcome}, {}};
    }
    case AttachKind::rejected: {
      AttachRejected rejected;
      const auto reason = reader.read<std::uint32_t>(0);
      const auto text_length = reader.read<std::uint16_t>(4);
      if (reason < static_cast<std::uint32_t>(AttachRejectReason::table_full) ||
          reason > static_cast<std::uint32_t>(AttachRejectReason::bad_request)) {
        return invalid("REJECTED with unknown reason " + std::to_string(reason));
      }
      if (reader.read<std::uint16_t>(6) != 0) {
        return invalid("REJECTED with non-zero reserved bytes");
      }
      if (rejected_fixed_size + std::size_t{text_length} != body.size()) {
        return invalid("REJECTED whose text length " + std::to_string(text_length) + " disagrees with its body of " +
                       std::to_string(body.size()) + " bytes");
      }
      const std::string_view text = reader.text(rejected_fixed_size, text_length);
      if (!printable(text)) {
        return invalid("REJECTED with a reason text that is not printable ASCII");
      }
      rejected.reason = static_cast<AttachRejectReason>(reason);
      rejected.text = std::string(text);
      return {AttachFrame{std::move(rejected)}, {}};
    }
    case AttachKind::bye: {
      const auto reason = reader.read<std::uint32_t>(0);
      if (reason > static_cast<std::uint32_t>(AttachByeReason::replaced)) {
        return invalid("BYE with unknown reason " + std::to_string(reason));
      }
      return {AttachFrame{AttachBye{static_cast<AttachByeReason>(reason)}}, {}};
    }
  }
  return invalid("frame of unknown kind");
}

AttachKind kind_of(const AttachFrame& frame) noexcept {
  return static_cast<AttachKind>(frame.index() + 1);
}
static_assert(std::is_same_v<std::variant_alternative_t<0, AttachFrame>, AttachHello>);
static_assert(std::is_same_v<std::variant_alternative_t<3, AttachFrame>, AttachBye>);

}  // namespace

Parsed<AttachFrameHeader> parse_attach_header(std::span<const std::byte> bytes) {
  const auto invalid = [](std::string problem) { return Parsed<AttachFrameHeader>{std::nullopt, std::move(problem)}; };
  if (bytes.size() < attach_header_size) {
    return invalid("attach frame of " + std::to_string(bytes.size()) + " bytes, shorter than its " +
                   std::to_string(attach_header_size) + "-byte header");
  }
  AttachFrameHeader header;
  std::memcpy(&header, bytes.data(), sizeof header);
  if (header.magic != attach_magic) {
    return invalid("not a shmsnap attach frame (magic " + std::to_string(header.magic) + ")");
  }
  if (header.version != attach_version) {
    return invalid("attach frame of version " + std::to_string(header.version) + ", this side speaks " +
                   std::to_string(attach_version) + " (upgrade the older side)");
  }
  const BodyBounds bounds = body_bounds(header.kind);
  if (bounds.most == 0) {
    return invalid("attach frame of unknown kind " + std::to_string(static_cast<unsigned>(header.kind)));
  }
  if (header.body_size < bounds.least || header.body_size > bounds.most) {
    return invalid("attach frame of kind " + std::to_string(static_cast<unsigned>(header.kind)) + " with a " +
                   std::to_string(header.body_size) + "-byte body, outside " + std::to_string(bounds.least) + ".." +
                   std::to_string(bounds.most));
  }
  return {header, {}};
}

Parsed<AttachFrame> parse_attach_frame(std::span<const std::byte> bytes) {
  const auto header = parse_attach_header(bytes);
  if (!header.valid()) {
    return {std::nullopt, header.problem};
  }
  // body_size <= attach_max_body_size here, so the sum cannot wrap.
  if (bytes.size() != attach_header_size + header.message->body_size) {
    return {std::nullopt, "attach frame of " + std::to_string(bytes.size()) + " bytes whose header announces " +
                              std::to_string(attach_header_size + header.message->body_size)};
  }
  return parse_body(header.message->kind, bytes.subspan(attach_header_size));
}

std::vector<std::byte> encode_attach_frame(const AttachFrame& frame) {
  std::vector<std::byte> bytes;
  bytes.reserve(attach_header_size + attach_max_body_size);
  BodyWriter writer(bytes);
  AttachFrameHeader header;
  header.kind = kind_of(frame);
  writer.write(header);
  if (const auto* hello = std::get_if<AttachHello>(&frame)) {
    SHMSNAP_EXPECTS(is_valid_name(hello->id, max_subscriber_id_length));
    SHMSNAP_EXPECTS((hello->flags & ~known_hello_flags) == 0);
    writer.write(hello->flags);
    writer.write(hello->schema_version);
    writer.write(hello->schema_fingerprint);
    writer.write(hello->payload_size);
    writer.write(static_cast<std::uint8_t>(hello->id.size()));
    writer.write(std::uint8_t{0});
    writer.write(std::uint16_t{0});
    writer.text(hello->id);
  } else if (const auto* welcome = std::get_if<AttachWelcome>(&frame)) {
    SHMSNAP_EXPECTS(welcome->epoch != 0 && welcome->region_size != 0);
    writer.write(welcome->epoch);
    writer.write(welcome->region_size);
    writer.write(welcome->schema_fingerprint);
  } else if (const auto* rejected = std::get_if<AttachRejected>(&frame)) {
    SHMSNAP_EXPECTS(rejected->text.size() <= attach_max_reason_length && printable(rejected->text));
    writer.write(static_cast<std::uint32_t>(rejected->reason));
    writer.write(static_cast<std::uint16_t>(rejected->text.size()));
    writer.write(std::uint16_t{0});
    writer.text(rejected->text);
  } else {
    writer.write(static_cast<std::uint32_t>(std::get<AttachBye>(frame).reason));
  }
  const auto body_size = static_cast<std::uint32_t>(bytes.size() - attach_header_size);
  std::memcpy(bytes.data() + offsetof(AttachFrameHeader, body_size), &body_size, sizeof body_size);
  return bytes;
}

std::size_t attach_descriptor_count(const AttachFrame& frame) noexcept {
  if (const auto* hello = std::get_if<AttachHello>(&frame)) {
    return (hello->flags & hello_wants_notify) != 0 ? 1 : 0;
  }
  return std::holds_alternative<AttachWelcome>(frame) ? 1 : 0;
}

std::string reason_text(std::string_view text) {
  std::string safe(text.substr(0, attach_max_reason_length));
  for (char& byte : safe) {
    if (byte < ' ' || byte > '~') {
      byte = '?';
    }
  }
  return safe;
}

std::string_view to_string(AttachRejectReason reason) noexcept {
  switch (reason) {
    case AttachRejectReason::table_full:
      return "table_full";
    case AttachRejectReason::id_in_use:
      return "id_in_use";
    case AttachRejectReason::not_admitted:
      return "not_admitted";
    case AttachRejectReason::schema_mismatch:
      return "schema_mismatch";
    case AttachRejectReason::bad_queue:
      return "bad_queue";
    case AttachRejectReason::bad_request:
      return "bad_request";
  }
  return "unknown";
}

}  // namespace shmsnap
