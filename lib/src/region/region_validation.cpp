// Validating a region's bytes before anything is read through them, and whom a
// reader trusts to own a region. Pure functions; any thread.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "shmsnap/region.hpp"

namespace shmsnap {
namespace {

using detail::RegionHeader;
using detail::SlotHeader;

template <class Field>
Field field_at(const std::byte* bytes, std::size_t offset) noexcept {
  Field value;
  std::memcpy(&value, bytes + offset, sizeof value);
  return value;
}

}  // namespace

RegionValidation RegionReader::validate(const std::byte* bytes, std::uint64_t file_size) {
  const auto invalid = [](std::string problem) { return RegionValidation{std::nullopt, std::move(problem)}; };
  if (file_size < sizeof(RegionHeader)) {
    return invalid("the file holds " + std::to_string(file_size) + " bytes but a region header needs " +
                   std::to_string(sizeof(RegionHeader)) + " (truncated, or a publisher died while creating it)");
  }
  const auto magic = field_at<std::uint32_t>(bytes, offsetof(RegionHeader, magic));
  if (magic == 0) {
    return invalid("the region is not initialised (a publisher is starting, or died while creating it)");
  }
  if (magic != detail::region_magic) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", magic);
    return invalid(std::string("not a shmsnap region (magic ") + text + ")");
  }
  const auto version = field_at<std::uint32_t>(bytes, offsetof(RegionHeader, layout_version));
  if (version != detail::region_layout_version) {
    // Version 1 slots have no used length: read as version 2 they would claim 0 bytes.
    const char* whose = version < detail::region_layout_version
                            ? " (its publisher is an older shmsnap, from before variable-size snapshots)"
                            : " (its publisher is a newer shmsnap)";
    return invalid("region layout version " + std::to_string(version) + whose + ", but this build reads version " +
                   std::to_string(detail::region_layout_version) +
                   ": run publisher and subscribers of one shmsnap release");
  }
  const auto region_size = field_at<std::uint64_t>(bytes, offsetof(RegionHeader, region_size));
  if (region_size != file_size) {
    return invalid("the header says " + std::to_string(region_size) + " bytes but the file has " +
                   std::to_string(file_size) + " (truncated or corrupt)");
  }
  const auto slot_count = field_at<std::uint32_t>(bytes, offsetof(RegionHeader, slot_count));
  const auto slot_stride = field_at<std::uint32_t>(bytes, offsetof(RegionHeader, slot_stride));
  const auto payload_size = field_at<std::uint32_t>(bytes, offsetof(RegionHeader, payload_size));
  const auto max_subscribers = field_at<std::uint32_t>(bytes, offsetof(RegionHeader, max_subscribers));
  const auto descriptor_size = field_at<std::uint32_t>(bytes, offsetof(RegionHeader, descriptor_size));
  const auto header_size = field_at<std::uint64_t>(bytes, offsetof(RegionHeader, header_size));
  const auto table_offset = field_at<std::uint64_t>(bytes, offsetof(RegionHeader, subscriber_table_offset));
  const auto descriptor_offset = field_at<std::uint64_t>(bytes, offsetof(RegionHeader, descriptor_offset));
  if (slot_count < 2 || slot_count > detail::max_slot_count) {
    return invalid("slot count " + std::to_string(slot_count) + " is outside 2.." +
                   std::to_string(detail::max_slot_count));
  }
  if (payload_size < 1 || payload_size > detail::max_payload_size) {
    return invalid("payload size " + std::to_string(payload_size) + " is outside 1.." +
                   std::to_string(detail::max_payload_size));
  }
  if (slot_stride != sizeof(SlotHeader) + detail::round_to_line(payload_size)) {
    return invalid("slot stride " + std::to_string(slot_stride) + " does not fit payload size " +
                   std::to_string(payload_size));
  }
  if (max_subscribers < 1 || max_subscribers > detail::max_table_entries) {
    return invalid("subscriber table of " + std::to_string(max_subscribers) + " entries is outside 1.." +
                   std::to_string(detail::max_table_entries));
  }
  if (descriptor_size > detail::max_descriptor_size) {
    return invalid("schema descriptor of " + std::to_string(descriptor_size) + " bytes exceeds " +
                   std::to_string(detail::max_descriptor_size));
  }
  const std::uint64_t expected_descriptor_offset =
      sizeof(RegionHeader) + std::uint64_t{max_subscribers} * sizeof(detail::SubscriberEntry);
  const std::uint64_t expected_header_size = detail::round_to_line(expected_descriptor_offset + descriptor_size);
  if (table_offset != sizeof(RegionHeader) || descriptor_offset != expected_descriptor_offset ||
      header_size != expected_header_size) {
    return invalid("table, descriptor or slot offsets are inconsistent with the table and descriptor sizes");
  }
  if (header_size + std::uint64_t{slot_count} * slot_stride != region_size) {
    return invalid("header of " + std::to_string(header_size) + " bytes plus " + std::to_string(slot_count) +
                   " slots of " + std::to_string(slot_stride) + " bytes is not the region size " +
                   std::to_string(region_size));
  }
  const auto* name = bytes + offsetof(RegionHeader, schema_name);
  if (std::memchr(name, 0, sizeof(RegionHeader::schema_name)) == nullptr) {
    return invalid("schema name is not terminated");
  }
  return RegionValidation{RegionGeometry{region_size, header_size, slot_count, slot_stride, payload_size,
                                         max_subscribers, table_offset, descriptor_offset, descriptor_size},
                          {}};
}

bool TrustedOwners::trusts(uid_t owner) const noexcept {
  return anyone || owner == 0 || owner == geteuid() || std::find(also.begin(), also.end(), owner) != also.end();
}

std::string login_name(uid_t uid) {
  std::array<char, 1024> buffer{};
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return std::to_string(uid);
}

std::string user_name(uid_t uid) {
  const std::string login = login_name(uid);
  return login == std::to_string(uid) ? "uid " + login : "'" + login + "' (uid " + std::to_string(uid) + ")";
}

}  // namespace shmsnap
