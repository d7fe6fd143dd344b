// The canonical layout text of a schema: names and numbers only, so equal text means
// equal layout, and its FNV-1a hash (fnv1a64() in frontend.hpp) is the fingerprint.
// The format is specified in schemas/README.md; the library rebuilds the same text from
// a descriptor (lib/src/schema/descriptor_fingerprint.cpp), and the tests check both agree.
#pragma once

#include <string>

#include "schema_model.hpp"

namespace shmsnap::schemac {

/// The text for a laid-out schema, starting "shmsnap-layout 1\nschema NAME\n", with a
/// nested struct written out at every use. Its size grows with that expansion, so
/// callers check nesting_within_limits() (descriptor_json.hpp) first.
[[nodiscard]] std::string canonical_layout_text(const Schema& schema);

}  // namespace shmsnap::schemac
