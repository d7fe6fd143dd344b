// The socket mode's attach handshake codec (shmsnap/detail/attach_handshake.hpp):
// what it builds parses back the same, and every malformed frame is refused with a
// reason, never read past its end.
#include "shmsnap/detail/attach_handshake.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "shmsnap/names.hpp"

namespace shmsnap {
namespace {

std::vector<std::byte> hello_bytes(const std::string& id = "sub-1") {
  return encode_attach_frame(AttachHello{hello_wants_notify, 3, 0x1122334455667788ULL, 504, id});
}

template <class Value>
void poke(std::vector<std::byte>& bytes, std::size_t offset, Value value) {
  ASSERT_LE(offset + sizeof value, bytes.size());
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

TEST(AttachHandshake, EveryKindRoundTripsThroughItsBytes) {
  const AttachFrame frames[] = {
      AttachHello{hello_wants_notify, 3, 0x1122334455667788ULL, 504, "sub-1"},
      AttachHello{0, 0, 0, 0, std::string(max_subscriber_id_length, 'x')},
      AttachWelcome{7, 4096, 0xabcdefULL},
      AttachRejected{AttachRejectReason::not_admitted, "uid 1001 is outside --allow-uid"},
      AttachRejected{AttachRejectReason::bad_request, ""},
      AttachBye{AttachByeReason::replaced},
  };
  for (const AttachFrame& frame : frames) {
    const std::vector<std::byte> bytes = encode_attach_frame(frame);
    ASSERT_LE(bytes.size(), attach_header_size + attach_max_body_size);
    const auto parsed = parse_attach_frame(bytes);
    ASSERT_TRUE(parsed.valid()) << parsed.problem;
    EXPECT_EQ(encode_attach_frame(*parsed.message), bytes);
    EXPECT_EQ(parsed.message->index(), frame.index());
  }
  const auto hello = std::get<AttachHello>(*parse_attach_frame(hello_bytes()).message);
  EXPECT_EQ(hello.id, "sub-1");
  EXPECT_EQ(hello.schema_fingerprint, 0x1122334455667788ULL);
  EXPECT_EQ(hello.payload_size, 504U);
  EXPECT_EQ(attach_descriptor_count(hello), 1U);
  EXPECT_EQ(attach_descriptor_count(AttachHello{0, 0, 0, 0, "spin"}), 0U);
  EXPECT_EQ(attach_descriptor_count(AttachWelcome{1, 1, 0}), 1U);
  EXPECT_EQ(attach_descriptor_count(AttachBye{}), 0U);
}

TEST(AttachHandshake, EveryTruncationAndEveryExtraByteIsRefused) {
  const std::vector<std::byte> whole = hello_bytes();
  for (std::size_t size = 0; size < whole.size(); ++size) {
    const auto parsed = parse_attach_frame(std::span(whole.data(), size));
    EXPECT_FALSE(parsed.valid()) << size;
    EXPECT_FALSE(parsed.problem.empty());
  }
  std::vector<std::byte> longer = whole;
  longer.push_back(std::byte{0});
  EXPECT_FALSE(parse_attach_frame(longer).valid());
}

TEST(AttachHandshake, AHeaderAnnouncingAHugeBodyIsRefusedBeforeAnyBodyIsRead) {
  for (const std::uint32_t announced : {std::numeric_limits<std::uint32_t>::max(), std::uint32_t{1} << 31,
                                        static_cast<std::uint32_t>(attach_max_body_size + 1)}) {
    std::vector<std::byte> bytes = hello_bytes();
    poke(bytes, 4, announced);
    const auto header = parse_attach_header(std::span(bytes.data(), attach_header_size));
    EXPECT_FALSE(header.valid()) << announced;
    EXPECT_NE(header.problem.find("outside"), std::string::npos) << header.problem;
  }
}

TEST(AttachHandshake, ForgedHeaderFieldsAreRefusedWithTheReason) {
  const auto refused_with = [](std::vector<std::byte> bytes, const std::string& reason) {
    const auto parsed = parse_attach_frame(bytes);
    EXPECT_FALSE(parsed.valid());
    EXPECT_NE(parsed.problem.find(reason), std::string::npos) << parsed.problem;
  };
  std::vector<std::byte> bytes = hello_bytes();
  poke(bytes, 0, std::uint16_t{0x5353});  // the queue protocol's magic
  refused_with(bytes, "magic");
  bytes = hello_bytes();
  poke(bytes, 2, std::uint8_t{2});
  refused_with(bytes, "version 2");
  for (const std::uint8_t kind : {std::uint8_t{0}, std::uint8_t{5}, std::uint8_t{255}}) {
    bytes = hello_bytes();
    poke(bytes, 3, kind);
    refused_with(bytes, "unknown kind");
  }
  // A WELCOME's fixed size announced on a HELLO body, and the reverse.
  bytes = encode_attach_frame(AttachWelcome{1, 1, 1});
  poke(bytes, 3, static_cast<std::uint8_t>(AttachKind::bye));
  refused_with(bytes, "outside 4..4");
}

TEST(AttachHandshake, AHelloWithABadIdFlagsOrReservedBytesIsRefused) {
  const auto refused_with = [](std::vector<std::byte> bytes, const std::string& reason) {
    const auto parsed = parse_attach_frame(bytes);
    EXPECT_FALSE(parsed.valid());
    EXPECT_NE(parsed.problem.find(reason), std::string::npos) << parsed.problem;
  };
  for (const char* id : {"..", "a/b", "a b", "\x01x"}) {
    std::vector<std::byte> bytes = hello_bytes("abc");
    bytes.resize(attach_header_size + 24);
    const std::size_t length = std::strlen(id);
    for (std::size_t index = 0; index < length; ++index) {
      bytes.push_back(static_cast<std::byte>(id[index]));
    }
    poke(bytes, 4, static_cast<std::uint32_t>(24 + length));
    poke(bytes, attach_header_size + 20, static_cast<std::uint8_t>(length));
    refused_with(bytes, "invalid subscriber id");
  }
  std::vector<std::byte> bytes = hello_bytes("abc");
  poke(bytes, attach_header_size + 20, std::uint8_t{4});  // one more than the body holds
  refused_with(bytes, "disagrees");
  bytes = hello_bytes("abc");
  poke(bytes, attach_header_size + 20, std::uint8_t{255});
  refused_with(bytes, "disagrees");
  bytes = hello_bytes();
  poke(bytes, attach_header_size, std::uint32_t{0x80000000U});
  refused_with(bytes, "unknown flags");
  bytes = hello_bytes();
  poke(bytes, attach_header_size + 21, std::uint8_t{1});
  refused_with(bytes, "reserved");
}

TEST(AttachHandshake, RejectedWelcomeAndByeWithOutOfRangeFieldsAreRefused) {
  const auto refused_with = [](std::vector<std::byte> bytes, const std::string& reason) {
    const auto parsed = parse_attach_frame(bytes);
    EXPECT_FALSE(parsed.valid());
    EXPECT_NE(parsed.problem.find(reason), std::string::npos) << parsed.problem;
  };
  std::vector<std::byte> bytes = encode_attach_frame(AttachRejected{AttachRejectReason::table_full, "full"});
  poke(bytes, attach_header_size, std::uint32_t{0});
  refused_with(bytes, "unknown reason");
  bytes = encode_attach_frame(AttachRejected{AttachRejectReason::table_full, "full"});
  poke(bytes, attach_header_size + 8, std::uint8_t{0x1b});  // ESC: would reach a terminal
  refused_with(bytes, "printable");
  bytes = encode_attach_frame(AttachRejected{AttachRejectReason::table_full, "full"});
  poke(bytes, attach_header_size + 4, std::uint16_t{0xffff});
  refused_with(bytes, "disagrees");
  bytes = encode_attach_frame(AttachWelcome{1, 4096, 0});
  poke(bytes, attach_header_size, std::uint64_t{0});
  refused_with(bytes, "epoch or region size 0");
  bytes = encode_attach_frame(AttachBye{});
  poke(bytes, attach_header_size, std::uint32_t{9});
  refused_with(bytes, "unknown reason");
}

TEST(AttachHandshake, ReasonTextIsCutAndMadePrintable) {
  EXPECT_EQ(reason_text("uid\n1001\x1b[31m"), "uid?1001?[31m");
  EXPECT_EQ(reason_text(std::string(1000, 'a')).size(), attach_max_reason_length);
  const std::string text = reason_text(std::string(300, '\xff'));
  EXPECT_TRUE(parse_attach_frame(encode_attach_frame(AttachRejected{AttachRejectReason::bad_queue, text})).valid());
  EXPECT_EQ(to_string(AttachRejectReason::not_admitted), "not_admitted");
}

}  // namespace
}  // namespace shmsnap
