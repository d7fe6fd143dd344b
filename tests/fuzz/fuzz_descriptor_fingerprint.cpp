// Fuzz target: the Python package's schema loading (python/src/schema_source.cpp).
// First byte even: the rest is TOML; whatever the schema compiler accepts, the
// fingerprint rebuilt from its descriptor must equal the compiler's own (the
// Python publisher and a generated C++ type must agree). First byte odd: the rest
// is an arbitrary descriptor; loading it must either succeed with a fingerprint that
// is a pure function of the text, or throw shmsnap::Error{invalid_argument}.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <shmsnap/error.hpp>

#include "frontend.hpp"
#include "schema_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1U) == 0) {
    const shmsnap::schemac::FrontendResult result = shmsnap::schemac::compile_schema_text(text, "fuzz.toml");
    if (!result.ok())
      return 0;
    const shmsnap::python::OwnedSchema loaded = shmsnap::python::schema_from_descriptor(result.schema->descriptor_json);
    if (loaded.fingerprint != result.schema->fingerprint || loaded.size != result.schema->root.size ||
        loaded.name != result.schema->name)
      std::abort();
    return 0;
  }
  try {
    const shmsnap::python::OwnedSchema loaded = shmsnap::python::schema_from_descriptor(text);
    if (shmsnap::python::fingerprint_of_descriptor(text) != loaded.fingerprint)
      std::abort();
  } catch (const shmsnap::Error& error) {
    if (error.code() != shmsnap::Errc::invalid_argument)
      std::abort();
  }
  return 0;
}
