// A gradient compression method, once: its options, its cost model (plan:
// the kernels and collectives of one bucket, compress/plan.h) and its real
// implementation (codec, compress/codec.h). The simulator prices plan(); the
// trainer runs codec(). Every method is one file in compress/ and one line
// in compress/registry.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compress/codec.h"
#include "compress/plan.h"
#include "compress/spec.h"
#include "models/layer.h"

namespace gcsim::compress {

// A bad option: the [compression] key and what is wrong with it.
struct OptionError {
  std::string key;
  std::string message;
};

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string_view name() const = 0;
  // One line for `--help`-style listings and error messages.
  virtual std::string_view summary() const = 0;
  // The [compression] keys it reads besides method (the sweep's config hash
  // and the outputs name exactly these).
  virtual std::vector<std::string_view> options() const = 0;
  // The configuration in a few words, unique among a sweep's variants of the
  // method: "none", "topk 1%", "topk 1% no-EF", "powersgd r=4", "qsgd 4-bit"
  // (the results' `variant` column, the plots' legend).
  virtual std::string label(const CompressionSpec&) const { return std::string(name()); }
  // Options it cannot honour, e.g. a rank below 1.
  virtual std::optional<OptionError> validate(const CompressionSpec&) const { return std::nullopt; }
  // Whether the trainer sends every entry (method none, or a cast): no
  // compression units, the bucket is one segment.
  virtual bool sparsifies() const { return false; }

  // The concrete configurations an "auto" option stands for (a sparsifier's
  // exchange = "auto": every exchange it can use), among which the simulator
  // takes the cheapest per bucket; just spec when nothing is "auto".
  virtual std::vector<CompressionSpec> variants(const CompressionSpec& spec) const { return {spec}; }

  // The cost model of one bucket of these layers on P ranks (P >= 2).
  virtual BucketPlan plan(const CompressionSpec& spec, const std::vector<Layer>& bucket, int P) const = 0;

  // The real implementation for these buckets of a gradient of `total` entries.
  virtual std::unique_ptr<Codec> codec(const CompressionSpec& spec, const std::vector<Segment>& segments,
                                       const std::vector<BucketLayout>& buckets, std::size_t total) const = 0;
};

// The method of that name; std::invalid_argument listing the known names otherwise.
const Method& method(std::string_view name);
const Method* find_method(std::string_view name);
std::vector<std::string> method_names();

// k = ceil(rho n), at least 1 and at most n; rho n a few ulps above an
// integer counts as that integer (0.1 * 30 = 3.0000000000000004 gives 3).
std::int64_t topk_count(double ratio, std::int64_t n);

}  // namespace gcsim::compress
