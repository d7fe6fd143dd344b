// Fuzz target: arbitrary text as a schema file. The front end must never crash, hang
// or leak; every refusal must carry a located diagnostic; and every schema it accepts
// must give a header and a descriptor the runtime decoder accepts as valid.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <shmsnap/error.hpp>
#include <shmsnap/schema.hpp>
#include <shmsnap/schema_json.hpp>

#include "emit.hpp"
#include "frontend.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = shmsnap::schemac::compile_schema_text(text, "fuzz.toml");
  if (!result.ok()) {
    if (result.diagnostics.empty())
      std::abort();
    for (const auto& diagnostic : result.diagnostics) {
      if (diagnostic.to_string().rfind("fuzz.toml", 0) != 0)
        std::abort();
    }
    return 0;
  }
  const auto& schema = *result.schema;
  if (shmsnap::schemac::emit_header(schema).empty())
    std::abort();
  try {
    const shmsnap::SnapshotCodec codec(schema.descriptor_json);
    if (codec.size() != schema.root.size || codec.name() != schema.name)
      std::abort();
    if (!shmsnap::schema_incompatibility(schema.descriptor_json, schema.descriptor_json).empty())
      std::abort();
    if (schema.root.size <= 4096) {
      const std::vector<std::byte> zeros(codec.size());
      (void)codec.decode(zeros).dump();
    }
  } catch (const shmsnap::Error&) {
    std::abort();  // the compiler emitted a descriptor its own runtime refuses
  }
  return 0;
}
