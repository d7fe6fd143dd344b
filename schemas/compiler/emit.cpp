// Back end of shmsnap-schemac: Schema -> C++ header text.
#include "emit.hpp"

#include <cstdio>
#include <filesystem>
#include <limits>
#include <string_view>
#include <vector>

namespace shmsnap::schemac {

namespace {

// Doc text from the schema becomes // comments: drop control characters (a newline
// would end the comment) and trailing backslashes (which would splice the next line
// into the comment).
std::vector<std::string> comment_lines(std::string_view doc) {
  std::vector<std::string> lines(1);
  for (const char c : doc) {
    if (c == '\n') {
      lines.emplace_back();
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      lines.back() += c;
    } else if (c == '\t') {
      lines.back() += ' ';
    }
  }
  for (auto& line : lines) {
    while (!line.empty() && (line.back() == '\\' || line.back() == ' '))
      line.pop_back();
  }
  while (!lines.empty() && lines.back().empty())
    lines.pop_back();
  return lines;
}

void emit_doc(std::string& out, std::string_view indent, std::string_view doc) {
  for (const auto& line : comment_lines(doc)) {
    out += std::string(indent) + "///" + (line.empty() ? "" : " ") + line + "\n";
  }
}

// A C++ string literal of `text`, split into adjacent literals of about 100 bytes.
std::string string_literal(std::string_view text, std::string_view indent) {
  std::string out = "\"";
  std::size_t width = 0;
  for (const char c : text) {
    std::string piece;
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      piece = std::string("\\") + c;
    } else if (u < 0x20 || u >= 0x7f || c == '?') {
      // Octal escapes are at most three digits, so a following digit cannot join them;
      // '?' is escaped so no trigraph-like sequence appears.
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned>(u));
      piece = buf;
    } else {
      piece = std::string(1, c);
    }
    if (width + piece.size() > 100) {
      out += "\"\n" + std::string(indent) + "\"";
      width = 0;
    }
    out += piece;
    width += piece.size();
  }
  return out + "\"";
}

std::string enum_value_literal(std::int64_t value) {
  if (value == std::numeric_limits<std::int64_t>::min())
    return "(-9223372036854775807 - 1)";
  return std::to_string(value);
}

class Emitter {
 public:
  explicit Emitter(const Schema& schema) : schema_(schema) {}

  std::string run();

 private:
  std::string element_type(const FieldDef& field) const {
    switch (field.kind) {
      case TypeKind::structure:
        return schema_.structs[field.type_index].name;
      case TypeKind::enumeration:
        return schema_.enums[field.type_index].name;
      case TypeKind::primitive:
        break;
    }
    return std::string(primitive_info(field.primitive).cpp);
  }

  void emit_member(const FieldDef& field, std::string_view indent) {
    const std::string unit_line = field.unit.empty() ? "" : "Unit: " + field.unit + ".";
    emit_doc(out_, indent,
             field.doc.empty() || unit_line.empty() ? field.doc + unit_line : field.doc + "\n" + unit_line);
    out_ += std::string(indent) + element_type(field) + " " + field.name;
    for (const auto dim : field.dims)
      out_ += "[" + std::to_string(dim) + "]";
    if (field.kind == TypeKind::primitive && field.primitive == Primitive::character) {
      out_ += "[" + std::to_string(field.char_length) + "]";
    }
    // Value-initialised by default so a snapshot never carries stack garbage into
    // shared memory; still trivially copyable and an aggregate.
    out_ += "{};\n";
  }

  void emit_struct_body(const StructDef& def, std::string_view indent) {
    for (const auto& field : def.fields)
      emit_member(field, indent);
  }

  // Field table rows: `prefix` is the dotted path so far, `offset_expr` the C++
  // expression of the enclosing struct's offset, `scope` its qualified type name.
  void emit_field_rows(const StructDef& def, const std::string& scope, const std::string& prefix,
                       const std::string& offset_expr) {
    for (const auto& field : def.fields) {
      const std::string path = prefix + field.name;
      const std::string offset = offset_expr + "offsetof(" + scope + ", " + field.name + ")";
      out_ += "        {\"" + path + "\", " + string_literal(field.type_text, "") + ", " + offset + ", sizeof(" +
              scope + "::" + field.name + ")},\n";
      ++rows_;
      if (field.kind == TypeKind::structure) {
        const StructDef& nested = schema_.structs[field.type_index];
        emit_field_rows(nested, root_name_ + "::" + nested.name, path + (field.is_array() ? "[0]." : "."),
                        offset + " + ");
      }
    }
  }

  // A bounded sequence (always the last field) gets the member shmsnap::used_bytes()
  // calls: the prefix a publish copies. The count is clamped to the capacity, so a
  // wrong count never makes a reader copy past the struct.
  void emit_used_bytes(const StructDef& root) {
    if (root.fields.empty() || root.fields.back().count_field.empty())
      return;
    const FieldDef& sequence = root.fields.back();
    const std::string capacity = std::to_string(sequence.count) + "U";
    out_ += "\n  /// Bytes in use: every field before `" + sequence.name + "` and its first min(" +
            sequence.count_field + ", " + std::to_string(sequence.count) + ") elements;\n";
    out_ += "  /// what shmsnap::used_bytes() returns and a publish copies.\n";
    out_ += "  [[nodiscard]] ::std::size_t shmsnap_used_bytes() const noexcept {\n";
    out_ += "    const auto count = static_cast<::std::uint64_t>(" + sequence.count_field + ");\n";
    out_ += "    const ::std::size_t used = count < " + capacity +
            " ? static_cast<::std::size_t>(count) : " + capacity + ";\n";
    out_ +=
        "    return offsetof(" + root.name + ", " + sequence.name + ") + used * sizeof(" + sequence.name + "[0]);\n";
    out_ += "  }\n";
  }

  void emit_asserts(const StructDef& def, const std::string& qualified) {
    out_ += "static_assert(sizeof(" + qualified + ") == " + std::to_string(def.size) + ", \"" + qualified +
            ": the compiler's layout differs from the schema's (natural alignment expected)\");\n";
    out_ += "static_assert(alignof(" + qualified + ") == " + std::to_string(def.align) + ");\n";
    for (const auto& field : def.fields) {
      out_ +=
          "static_assert(offsetof(" + qualified + ", " + field.name + ") == " + std::to_string(field.offset) + ");\n";
    }
  }

  const Schema& schema_;
  std::string out_;
  std::string root_name_;
  std::size_t rows_ = 0;
};

std::string Emitter::run() {
  const StructDef& root = schema_.root;
  root_name_ = root.name;
  char fingerprint[32];
  std::snprintf(fingerprint, sizeof fingerprint, "0x%016llx", static_cast<unsigned long long>(schema_.fingerprint));
  const std::string source_name = std::filesystem::path(schema_.source_file).filename().string();

  out_ += "// Generated by shmsnap-schemac from " + source_name + "; do not edit, change the schema and rebuild.\n";
  out_ += "// Schema " + schema_.name + " version " + std::to_string(schema_.version) + ", fingerprint " + fingerprint +
          ". Layout: natural C++ alignment,\n";
  out_ += "// host byte order; the static_asserts below fail the build on any ABI that lays it out differently.\n";
  out_ += "#pragma once\n\n";
  out_ += "#include <array>\n#include <cstddef>\n#include <cstdint>\n#include <type_traits>\n\n";
  out_ += "#include <shmsnap/schema.hpp>\n#include <shmsnap/schema_field.hpp>\n\n";
  if (!schema_.namespaces.empty()) {
    out_ += "namespace ";
    for (std::size_t i = 0; i < schema_.namespaces.size(); ++i)
      out_ += (i == 0 ? "" : "::") + schema_.namespaces[i];
    out_ += " {\n\n";
  }
  emit_doc(out_, "",
           root.doc.empty() ? "Snapshot of schema " + schema_.name + " version " + std::to_string(schema_.version) + "."
                            : root.doc);
  out_ += "struct " + root.name + " {\n";
  for (const auto& def : schema_.enums) {
    emit_doc(out_, "  ", def.doc);
    out_ += "  enum class " + def.name + " : " + std::string(primitive_info(def.underlying).cpp) + " {\n";
    for (const auto& value : def.values)
      out_ += "    " + value.name + " = " + enum_value_literal(value.value) + ",\n";
    out_ += "  };\n\n";
  }
  for (const auto& def : schema_.structs) {
    emit_doc(out_, "  ", def.doc);
    out_ += "  struct " + def.name + " {\n";
    emit_struct_body(def, "    ");
    out_ += "  };\n\n";
  }
  emit_struct_body(root, "  ");
  emit_used_bytes(root);
  out_ += "\n  /// Identity and layout for shmsnap (see shmsnap/schema.hpp); makes this a shmsnap::Snapshot.\n";
  out_ += "  static constexpr ::shmsnap::SchemaInfo shmsnap_schema{\n";
  out_ += "      \"" + schema_.name + "\", " + std::to_string(schema_.version) + "U, " + fingerprint + "ULL, " +
          std::to_string(root.size) + "U,\n";
  out_ += "      " + string_literal(schema_.descriptor_json, "      ") + "};\n\n";

  // Rows are counted while emitting, so the table goes to a side buffer first.
  std::string body;
  std::swap(out_, body);
  emit_field_rows(root, root.name, "", "");
  std::string rows;
  std::swap(out_, rows);
  std::swap(out_, body);
  out_ += "  /// Every field with the offset and size the C++ compiler gave it (nested fields by\n";
  out_ += "  /// dotted path), for checking against the descriptor.\n";
  out_ += "  static constexpr ::std::array<::shmsnap::FieldInfo, " + std::to_string(rows_) +
          "> shmsnap_fields() noexcept {\n";
  out_ += "    return {{\n" + rows + "    }};\n  }\n";
  out_ += "};\n\n";

  out_ += "// The layout the schema compiler computed; the descriptor carries the same numbers.\n";
  for (const auto& def : schema_.structs)
    emit_asserts(def, root.name + "::" + def.name);
  emit_asserts(root, root.name);
  out_ += "static_assert(::std::is_trivially_copyable_v<" + root.name + "> && ::std::is_standard_layout_v<" +
          root.name + ">);\n";
  out_ += "static_assert(::shmsnap::Snapshot<" + root.name + ">);\n";
  if (!schema_.namespaces.empty()) {
    out_ += "\n}  // namespace ";
    for (std::size_t i = 0; i < schema_.namespaces.size(); ++i)
      out_ += (i == 0 ? "" : "::") + schema_.namespaces[i];
    out_ += "\n";
  }
  return out_;
}

}  // namespace

std::string emit_header(const Schema& schema) {
  return Emitter(schema).run();
}

}  // namespace shmsnap::schemac
