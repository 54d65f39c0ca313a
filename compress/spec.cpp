#include "compress/spec.h"

#include <stdexcept>

namespace gcsim {

OptionValue option_value(const CompressionSpec& s, std::string_view key) {
  if (key == "ratio") return s.ratio;
  if (key == "index_bytes") return std::int64_t{s.index_bytes};
  if (key == "exchange") return std::string(to_string(s.exchange));
  if (key == "error_feedback") return s.error_feedback;
  if (key == "momentum_correction") return s.momentum_correction;
  if (key == "granularity") return std::string(to_string(s.granularity));
  if (key == "rank") return std::int64_t{s.rank};
  if (key == "start_iter") return std::int64_t{s.start_iter};
  if (key == "warm_start") return s.warm_start;
  if (key == "min_compression_rate") return s.min_compression_rate;
  if (key == "majority_vote") return s.majority_vote;
  if (key == "bits") return std::int64_t{s.bits};
  if (key == "chunk") return s.chunk;
  if (key == "warmup_epochs") return std::int64_t{s.warmup_epochs};
  throw std::logic_error("option_value: no compression option '" + std::string(key) + "'");
}

}  // namespace gcsim
