// What a scenario's [compression] table says, validated: the method by name
// (compress/method.h's registry knows them) and the options the methods read.
// Shared by the simulator's pricing and the real trainer, which both take the
// method from here (compress/registry.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace gcsim {

// The unit a sparsifying or quantizing method works on: each layer, each
// bucket (DDP's), or the whole model as one bucket.
enum class Granularity { Layer, Bucket, Model };
// How a sparsifier's (value, index) pairs travel (compress/exchange/): an
// allgather of the packed pairs; scattered into a dense buffer that is
// allreduced (no bytes saved); gTop-k's tree of merges; SparCML's sparse
// recursive doubling; hierarchical: a dense reduce-scatter in the node, the
// shards' pairs between nodes, a dense allgather in the node; auto: whichever
// the simulator prices cheapest.
enum class Exchange { Allgather, Dense, Gtopk, SparseAllreduce, Hierarchical, Auto };

struct CompressionSpec {
  std::string method = "none";   // a name from compress::method_names()
  // sparsifiers (topk, randomk, threshold)
  double ratio = 1.0;            // rho = k/N in (0, 1]
  int index_bytes = 4;           // 4 (int32) or 8 (int64)
  Exchange exchange = Exchange::Allgather;
  // methods with a residual (sparsifiers, signsgd, qsgd, powersgd)
  bool error_feedback = true;
  bool momentum_correction = false;  // DGC: momentum accumulated on the worker (gcsim train only)
  // DGC's sparsity warm-up (gcsim train only; the simulator prices the steady
  // state): in epoch e < warmup_epochs the density is max(ratio, 0.25^(e+1)),
  // i.e. 25 %, 6.25 %, 1.5625 %, 0.39 % ... (Lin et al., ICLR 2018, section 3.3).
  int warmup_epochs = 0;
  Granularity granularity = Granularity::Bucket;
  // powersgd (PyTorch's PowerSGDState names in brackets)
  int rank = 4;                  // r [matrix_approximation_rank]
  int start_iter = 0;            // dense allreduce for steps before it [start_powerSGD_iter]
  bool warm_start = true;        // Q starts from the previous step's [warm_start]
  double min_compression_rate = 2.0;  // compress a matrix only if nm / (r(n+m)) >= this
  // signsgd
  bool majority_vote = false;    // Bernstein et al. 2018: elect the sign, no error feedback
  // qsgd
  int bits = 8;                  // 2, 4 or 8 bits per element (sign + level)
  std::int64_t chunk = 0;        // entries per norm (the paper's bucket size d); 0: one per bucket
  // Not a key: the ranks of one node (cluster.gpus_per_node, at most the
  // workers), which the hierarchical exchange splits a bucket over. The
  // simulator's pricing and the trainer fill it in from the cluster.
  int node_size = 1;
};

const char* to_string(Granularity);
const char* to_string(Exchange);

}  // namespace gcsim

#include <string_view>
#include <variant>

namespace gcsim {

// The value of a [compression] key (a Method::options() name), typed as the
// TOML value is; std::logic_error for a key CompressionSpec does not hold.
using OptionValue = std::variant<double, std::int64_t, bool, std::string>;
OptionValue option_value(const CompressionSpec& spec, std::string_view key);

}  // namespace gcsim
