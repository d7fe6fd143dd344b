// The canonical layout text of a parsed descriptor and its fingerprint (the format of
// schemas/README.md, "Fingerprint"). shmsnap-schemac writes the same text from its
// own model (schemas/compiler/canonical_layout.cpp); the unit tests check that both
// agree on every bundled and test schema. This is the one copy that readers of outside
// descriptors use: the parser verifies a claimed fingerprint with it, and the Python
// package fingerprints bare descriptors with it.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "schema/schema_descriptor.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/schema.hpp"

namespace shmsnap {

namespace detail {

namespace {

bool is_word_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The text is only unambiguous (equal text, equal layout) while no name can carry a
// separator of the format (' ', '=', ':', ',', a newline); the compiler's names never do.
const std::string& checked_name(const std::string& name, const char* what, bool dots_allowed) {
  for (const char c : name) {
    if (!is_word_character(c) && !(dots_allowed && c == '.')) {
      throw Error(Errc::invalid_region, std::string(what) + " '" + name.substr(0, 64) +
                                            "' has a character other than letters, digits and '_'" +
                                            (dots_allowed ? " and '.'" : "") +
                                            ", so it has no canonical layout text (schemas/README.md)");
    }
  }
  return name;
}

// "quote_book" -> "QuoteBook": the root struct's name, as the compiler derives it.
std::string type_name_for(std::string_view part) {
  std::string out;
  bool upper = true;
  for (const char c : part) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

// An enum value as the schema wrote it: signed underlying types print negative values.
std::string enum_number(ElementType underlying, std::uint64_t bits) {
  const std::uint64_t width = element_type_size(underlying) * 8;
  const bool is_signed = underlying >= ElementType::i8 && underlying <= ElementType::i64;
  if (!is_signed)
    return std::to_string(bits);
  if (width < 64 && (bits & (std::uint64_t{1} << (width - 1))) != 0)
    bits |= ~((std::uint64_t{1} << width) - 1);
  return std::to_string(static_cast<std::int64_t>(bits));
}

// Recursive over nested structs; the parser bounds their depth (descriptor_max_depth).
void append_struct(const StructPlan& plan, const std::string& name, std::string& out) {
  if (plan.align == 0) {
    throw Error(Errc::invalid_region,
                "struct '" + name.substr(0, 64) + "' has no \"align\", which the canonical layout text needs");
  }
  out += "struct " + name + " size=" + std::to_string(plan.size) + " align=" + std::to_string(plan.align) +
         " fields=" + std::to_string(plan.fields.size()) + "\n";
  for (const FieldPlan& field : plan.fields) {
    out += "field " + checked_name(field.name, "field", false) + " type=" + std::string(element_type_name(field.type)) +
           " offset=" + std::to_string(field.offset) + " size=" + std::to_string(field.size);
    if (field.is_array)
      out += " count=" + std::to_string(field.count);
    // The compiler writes "dims" for two or more dimensions only; one dimension is
    // the same layout as a plain count.
    if (field.dims.size() > 1) {
      out += " dims=";
      for (std::size_t i = 0; i < field.dims.size(); ++i)
        out += (i == 0 ? "" : "x") + std::to_string(field.dims[i]);
    }
    if (field.type == ElementType::character)
      out += " length=" + std::to_string(field.length);
    // Only a bounded sequence writes it, so every older fingerprint stays the same.
    if (!field.count_field.empty())
      out += " count_field=" + checked_name(field.count_field, "count field", false);
    out += "\n";
    if (field.type == ElementType::structure) {
      append_struct(*field.structure, checked_name(field.structure->name, "struct", false), out);
      out += "end\n";
    } else if (field.type == ElementType::enumeration) {
      const EnumPlan& plan_enum = *field.enumeration;
      out += "enum " + checked_name(plan_enum.name, "enum", false) +
             " underlying=" + std::string(element_type_name(plan_enum.underlying)) + " values=";
      for (std::size_t i = 0; i < plan_enum.values.size(); ++i) {
        const auto& [bits, value_name] = plan_enum.values[i];
        out += (i == 0 ? "" : ",") + checked_name(value_name, "enum value", false) + ":" +
               enum_number(plan_enum.underlying, bits);
      }
      out += "\n";
    }
  }
}

}  // namespace

std::string canonical_layout_text(const DescriptorPlan& plan) {
  std::string text = "shmsnap-layout 1\nschema " + checked_name(plan.name, "schema name", true) + "\n";
  const std::size_t dot = plan.name.rfind('.');
  append_struct(plan.root, type_name_for(dot == std::string::npos ? plan.name : plan.name.substr(dot + 1)), text);
  return text;
}

}  // namespace detail

std::string descriptor_canonical_layout(std::string_view descriptor_json) {
  return detail::canonical_layout_text(detail::parse_descriptor(descriptor_json));
}

std::uint64_t descriptor_fingerprint(std::string_view descriptor_json) {
  return detail::fnv1a64(descriptor_canonical_layout(descriptor_json));
}

std::string schema_fingerprint_mismatch(const SchemaInfo& schema) {
  std::uint64_t actual = 0;
  try {
    actual = descriptor_fingerprint(schema.descriptor);
  } catch (const Error& e) {
    return "the descriptor of schema " + std::string(schema.name) + " cannot be fingerprinted: " + e.what();
  }
  if (actual == schema.fingerprint)
    return {};
  char text[128];
  std::snprintf(text, sizeof text, "fingerprint 0x%016llx is claimed but the descriptor's layout hashes to 0x%016llx",
                static_cast<unsigned long long>(schema.fingerprint), static_cast<unsigned long long>(actual));
  return "schema " + std::string(schema.name) + ": " + text +
         "; the descriptor was edited or belongs to another schema: take both from one generated header or "
         "shmsnap-schemac output";
}

}  // namespace shmsnap
