// Type resolution and layout; see layout.hpp. Offsets follow the C++ rules for a
// standard-layout struct: each field at the next multiple of its alignment, the size
// rounded up to the widest alignment, so the generated struct matches byte for byte.
#include "layout.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string_view>
#include <utility>

#include "identifiers.hpp"
#include "type_text.hpp"

namespace shmsnap::schemac {

namespace {

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// Sorts `structs` so that every struct follows the structs it contains; a cycle is
// reported and its members marked failed. False on a cycle or too many types.
bool order_structs(std::vector<RawStruct>& structs, std::size_t enum_count, FailedTypes& failed_types,
                   DiagnosticList& diagnostics) {
  if (structs.size() + enum_count > max_types_per_file) {
    diagnostics.error({1, 1}, "schema",
                      "more than " + std::to_string(max_types_per_file) + " structs and enums in one file");
    return false;
  }
  std::map<std::string, std::size_t, std::less<>> by_name;
  for (std::size_t i = 0; i < structs.size(); ++i)
    by_name.emplace(structs[i].name, i);

  // Depth-first search: a grey struct met again closes a cycle. Post-order gives every
  // struct after the structs it contains, which is the order C++ needs them defined in.
  enum class Mark : std::uint8_t { white, grey, black };
  std::vector<Mark> mark(structs.size(), Mark::white);
  std::vector<std::size_t> order;
  std::vector<std::size_t> path;
  bool good = true;
  const auto visit = [&](auto&& self, std::size_t index) -> void {
    mark[index] = Mark::grey;
    path.push_back(index);
    for (const RawField& field : structs[index].fields) {
      const auto it = by_name.find(base_name_of(field.type_text));
      if (it == by_name.end())
        continue;
      if (mark[it->second] == Mark::grey) {
        std::string cycle;
        const auto start = std::find(path.begin(), path.end(), it->second);
        for (auto step = start; step != path.end(); ++step)
          cycle += structs[*step].name + " -> ";
        cycle += structs[it->second].name;
        diagnostics.error(
            field.type_where, "struct " + quote_name(structs[index].name) + " field " + quote_name(field.name),
            "recursive nesting " + cycle + ": a struct cannot contain itself, directly or through others");
        for (auto step = start; step != path.end(); ++step)
          failed_types.insert(structs[*step].name);
        good = false;
      } else if (mark[it->second] == Mark::white) {
        self(self, it->second);
      }
    }
    path.pop_back();
    mark[index] = Mark::black;
    order.push_back(index);
  };
  for (std::size_t i = 0; i < structs.size(); ++i) {
    if (mark[i] == Mark::white)
      visit(visit, i);
  }
  std::vector<RawStruct> sorted;
  sorted.reserve(order.size());
  for (const std::size_t index : order)
    sorted.push_back(std::move(structs[index]));
  structs = std::move(sorted);
  return good;
}

// Resolves fields and lays structs out one at a time, in dependency order, so every
// struct a field uses is already laid out.
class StructLayout {
 public:
  StructLayout(const std::vector<RawStruct>& structs, FailedTypes& failed_types, Schema& schema,
               DiagnosticList& diagnostics)
      : raw_structs_(structs), failed_types_(failed_types), schema_(schema), diagnostics_(diagnostics) {
    for (std::size_t i = 0; i < schema_.enums.size(); ++i)
      enum_index_.emplace(schema_.enums[i].name, i);
  }

  // Fills `out` from `raw`; false when any field failed. `owner` prefixes field subjects.
  bool resolve_and_layout(const RawStruct& raw, StructDef& out, const std::string& owner);

  // Makes a laid-out struct available to the fields of the structs after it.
  void add(StructDef def) {
    struct_index_.emplace(def.name, schema_.structs.size());
    schema_.structs.push_back(std::move(def));
  }

 private:
  void report_unknown_type(const RawField& raw_field, const std::string& base, const std::string& subject);

  const std::vector<RawStruct>& raw_structs_;
  FailedTypes& failed_types_;
  Schema& schema_;
  DiagnosticList& diagnostics_;
  std::map<std::string, std::size_t, std::less<>> struct_index_;  // name -> index into schema_.structs
  std::map<std::string, std::size_t, std::less<>> enum_index_;    // name -> index into schema_.enums
};

bool StructLayout::resolve_and_layout(const RawStruct& raw, StructDef& out, const std::string& owner) {
  out.name = raw.name;
  out.doc = raw.doc;
  out.where = raw.where;
  bool good = raw.usable;
  std::uint64_t offset = 0;
  std::uint64_t align = 1;
  for (const RawField& raw_field : raw.fields) {
    const std::string subject = (owner.empty() ? "field " : owner + " field ") + quote_name(raw_field.name);
    if (raw_field.name == schema_.root.name || struct_index_.count(raw_field.name) != 0 ||
        enum_index_.count(raw_field.name) != 0 ||
        std::any_of(raw_structs_.begin(), raw_structs_.end(),
                    [&](const RawStruct& s) { return s.name == raw_field.name; })) {
      diagnostics_.error(raw_field.where, subject, "a field cannot have the name of a type in this schema");
      good = false;
      continue;
    }
    std::string why_not;
    const auto parsed = parse_type_text(raw_field.type_text, why_not);
    if (!parsed) {
      diagnostics_.error(raw_field.type_where, subject, "bad type " + quote_name(raw_field.type_text) + ": " + why_not);
      good = false;
      continue;
    }
    FieldDef field;
    field.name = raw_field.name;
    field.type_text = raw_field.type_text;
    field.doc = raw_field.doc;
    field.unit = raw_field.unit;
    field.description = raw_field.description;
    field.where = raw_field.where;
    field.count_field = raw_field.count_field;
    field.dims = parsed->dims;
    if (const auto primitive = primitive_by_name(parsed->base)) {
      field.kind = TypeKind::primitive;
      field.primitive = *primitive;
      if (*primitive == Primitive::character) {
        if (field.dims.empty()) {
          diagnostics_.error(raw_field.type_where, subject,
                             "bad type " + quote_name(raw_field.type_text) + ": 'char' needs a length: write char[N]");
          good = false;
          continue;
        }
        // As in C, the last dimension of a char array is the string length.
        field.char_length = field.dims.back();
        field.dims.pop_back();
        field.element_size = field.char_length;
        field.element_align = 1;
      } else {
        field.element_size = primitive_info(*primitive).size;
        field.element_align = field.element_size;
      }
    } else if (const auto s = struct_index_.find(parsed->base); s != struct_index_.end()) {
      field.kind = TypeKind::structure;
      field.type_index = s->second;
      field.element_size = schema_.structs[s->second].size;
      field.element_align = schema_.structs[s->second].align;
    } else if (const auto e = enum_index_.find(parsed->base); e != enum_index_.end()) {
      field.kind = TypeKind::enumeration;
      field.type_index = e->second;
      field.primitive = schema_.enums[e->second].underlying;
      field.element_size = primitive_info(field.primitive).size;
      field.element_align = field.element_size;
    } else {
      // A type that is defined but broken was reported where it is defined.
      if (failed_types_.count(parsed->base) == 0)
        report_unknown_type(raw_field, parsed->base, subject);
      good = false;
      continue;
    }
    if (field.dims.size() > max_array_dimensions) {
      diagnostics_.error(raw_field.type_where, subject,
                         "bad type " + quote_name(raw_field.type_text) + ": more than " +
                             std::to_string(max_array_dimensions) + " array dimensions");
      good = false;
      continue;
    }
    // Sizes stay far below 2^64: every factor is at most 2^28 bytes or 2^20 elements,
    // and the running product is checked after each step.
    field.count = 1;
    bool too_large = field.element_size > max_snapshot_size;
    for (const std::uint64_t dim : field.dims) {
      field.count *= dim;
      too_large = too_large || field.count * field.element_size > max_snapshot_size;
      if (too_large)
        break;
    }
    field.size = field.count * field.element_size;
    offset = align_up(offset, field.element_align);
    too_large = too_large || offset + field.size > max_snapshot_size;
    if (too_large) {
      diagnostics_.error(raw_field.type_where, subject,
                         "the struct grows beyond the limit of " + std::to_string(max_snapshot_size) + " bytes");
      good = false;
      break;
    }
    field.offset = offset;
    offset += field.size;
    align = std::max(align, field.element_align);
    out.fields.push_back(std::move(field));
  }
  out.align = align;
  out.size = align_up(std::max<std::uint64_t>(offset, 1), align);
  return good;
}

void StructLayout::report_unknown_type(const RawField& raw_field, const std::string& base, const std::string& subject) {
  std::vector<std::string_view> candidates;
  for (std::size_t i = 0; i < primitive_count; ++i)
    candidates.push_back(primitive_info(static_cast<Primitive>(i)).name);
  for (const auto& [name, index] : struct_index_)
    candidates.push_back(name);
  for (const auto& [name, index] : enum_index_)
    candidates.push_back(name);
  diagnostics_.error(
      raw_field.type_where, subject,
      "unknown type " + quote_name(base) + did_you_mean(base, candidates) + "; " + std::string(type_list_hint));
}

// The rules of a bounded sequence (`count_field`), checked on the laid-out snapshot:
// its used prefix, offsetof(last) + count x element size, covers every other field
// only when the sequence is last, and the count must be a plain unsigned number that
// can reach the capacity. False when any rule is broken (each one reported).
bool check_bounded_sequence(const RawStruct& raw_root, const StructDef& root, DiagnosticList& diagnostics) {
  bool good = true;
  for (std::size_t i = 0; i < raw_root.fields.size(); ++i) {
    const RawField& raw = raw_root.fields[i];
    if (raw.count_field.empty() && raw.count_field_where.line == 0)
      continue;
    const std::string subject = "field " + quote_name(raw.name);
    const SourceLocation where = raw.count_field_where;
    if (i + 1 != raw_root.fields.size()) {
      diagnostics.error(where, subject,
                        "'count_field' makes a bounded sequence, which must be the last top-level field (the "
                        "bytes in use end inside it); move it after " +
                            quote_name(raw_root.fields.back().name));
      good = false;
      continue;
    }
    const auto self =
        std::find_if(root.fields.begin(), root.fields.end(), [&](const FieldDef& f) { return f.name == raw.name; });
    if (self == root.fields.end())
      continue;  // its type failed, reported already
    if (self->dims.size() != 1) {
      diagnostics.error(where, subject,
                        "a bounded sequence must be a one-dimensional array such as Point[1000] or u8[65536], not " +
                            quote_name(raw.type_text));
      good = false;
      continue;
    }
    const auto count =
        std::find_if(root.fields.begin(), self, [&](const FieldDef& f) { return f.name == raw.count_field; });
    if (count == self) {
      std::vector<std::string_view> earlier;
      for (auto it = root.fields.begin(); it != self; ++it)
        earlier.push_back(it->name);
      diagnostics.error(where, subject,
                        "'count_field' names " + quote_name(raw.count_field) +
                            ", which is not an earlier top-level field" + did_you_mean(raw.count_field, earlier) +
                            "; add e.g. { name = \"" + raw.name + "_count\", type = \"u32\" } before it");
      good = false;
      continue;
    }
    if (count->kind != TypeKind::primitive || count->is_array() || !is_integer(count->primitive) ||
        is_signed_integer(count->primitive)) {
      diagnostics.error(where, subject,
                        "count field " + quote_name(count->name) + " is " + quote_name(count->type_text) +
                            "; it must be an unsigned integer scalar (u8, u16, u32 or u64)");
      good = false;
      continue;
    }
    const std::uint64_t bits = primitive_info(count->primitive).size * 8;
    if (bits < 64 && self->count > (std::uint64_t{1} << bits) - 1) {
      diagnostics.error(where, subject,
                        "count field " + quote_name(count->name) + " (" + count->type_text + ") cannot count to " +
                            std::to_string(self->count) + " elements; give it a wider unsigned type");
      good = false;
    }
  }
  return good;
}

}  // namespace

void lay_out_structs(std::vector<RawStruct>& structs, const RawStruct& root, FailedTypes& failed_types, Schema& schema,
                     DiagnosticList& diagnostics) {
  if (!order_structs(structs, schema.enums.size(), failed_types, diagnostics))
    return;
  StructLayout layout(structs, failed_types, schema, diagnostics);
  for (const RawStruct& raw : structs) {
    if (failed_types.count(raw.name) != 0)
      continue;
    StructDef def;
    if (layout.resolve_and_layout(raw, def, "struct " + quote_name(raw.name))) {
      layout.add(std::move(def));
    } else {
      failed_types.insert(raw.name);
    }
  }
  const std::string root_name = schema.root.name;
  const std::string root_doc = schema.root.doc;
  const SourceLocation root_where = schema.root.where;
  StructDef root_def;
  if (layout.resolve_and_layout(root, root_def, ""))
    check_bounded_sequence(root, root_def, diagnostics);
  schema.root = std::move(root_def);
  schema.root.name = root_name;
  schema.root.doc = root_doc;
  schema.root.where = root_where;
}

}  // namespace shmsnap::schemac
