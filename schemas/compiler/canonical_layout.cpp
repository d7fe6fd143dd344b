// Canonical layout text; see canonical_layout.hpp.
#include "canonical_layout.hpp"

namespace shmsnap::schemac {

namespace {

// One line per struct and field, then the nested struct or the enum it uses;
// recursive, so a struct is written out again at each use.
void append_canonical(const Schema& schema, const StructDef& def, std::string& out) {
  out += "struct " + def.name + " size=" + std::to_string(def.size) + " align=" + std::to_string(def.align) +
         " fields=" + std::to_string(def.fields.size()) + "\n";
  for (const FieldDef& field : def.fields) {
    out += "field " + field.name + " type=";
    switch (field.kind) {
      case TypeKind::primitive:
        out += primitive_info(field.primitive).name;
        break;
      case TypeKind::structure:
        out += "struct";
        break;
      case TypeKind::enumeration:
        out += "enum";
        break;
    }
    out += " offset=" + std::to_string(field.offset) + " size=" + std::to_string(field.size);
    if (field.is_array())
      out += " count=" + std::to_string(field.count);
    if (field.dims.size() > 1) {
      out += " dims=";
      for (std::size_t i = 0; i < field.dims.size(); ++i)
        out += (i == 0 ? "" : "x") + std::to_string(field.dims[i]);
    }
    if (field.primitive == Primitive::character && field.kind == TypeKind::primitive) {
      out += " length=" + std::to_string(field.char_length);
    }
    // Written only for a bounded sequence, so the text (and fingerprint) of every
    // schema without one is what it was before sequences existed.
    if (!field.count_field.empty())
      out += " count_field=" + field.count_field;
    out += "\n";
    if (field.kind == TypeKind::structure) {
      append_canonical(schema, schema.structs[field.type_index], out);
      out += "end\n";
    } else if (field.kind == TypeKind::enumeration) {
      const EnumDef& def_enum = schema.enums[field.type_index];
      out +=
          "enum " + def_enum.name + " underlying=" + std::string(primitive_info(def_enum.underlying).name) + " values=";
      for (std::size_t i = 0; i < def_enum.values.size(); ++i) {
        out += (i == 0 ? "" : ",") + def_enum.values[i].name + ":" + std::to_string(def_enum.values[i].value);
      }
      out += "\n";
    }
  }
}

}  // namespace

std::string canonical_layout_text(const Schema& schema) {
  std::string text = "shmsnap-layout 1\nschema " + schema.name + "\n";
  append_canonical(schema, schema.root, text);
  return text;
}

}  // namespace shmsnap::schemac
