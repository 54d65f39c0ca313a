// A validated scenario: everything one simulation needs, as plain structs.
// The engine never sees TOML; config/ builds these at the edge and rejects
// bad input there (see config/scenario_loader.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compress/spec.h"
#include "models/layer.h"
#include "sim/profile.h"

namespace gcsim {

enum class TopologyKind { Switch, TwoLevel, FatTree, Ring };
enum class Algorithm { Ring, Tree, HalvingDoubling, Hierarchical, ParameterServer, Auto };
// How nodes are laid out on a fat-tree's leaves: consecutive nodes on one leaf
// (packed), or node n on leaf n mod leaves (spread: neighbours on different leaves).
enum class Placement { Packed, Spread };

// One class of link: NVLink/NVSwitch inside a node, or the NIC into the network.
struct LinkClass {
  double bandwidth_gbps = 0.0;  // Gbit/s, one direction (links are full duplex)
  double latency_us = 0.0;      // one-way latency between two ranks over this class

  double bytes_per_s() const { return bandwidth_gbps * 1e9 / 8.0; }
};

struct ClusterSpec {
  int workers = 1;               // P
  int gpus_per_node = 1;         // G; workers are packed node by node
  TopologyKind topology = TopologyKind::Switch;
  LinkClass intra_node;          // used when gpus_per_node > 1
  LinkClass inter_node;          // per NIC
  int nics_per_node = 1;
  double oversubscription = 1.0; // fat-tree leaf uplink oversubscription (>= 1)
  int nodes_per_leaf = 16;       // fat-tree: nodes under one leaf switch
  int spines = 0;                // fat-tree: spine switches (0: as many as a leaf has uplink ports)
  Placement placement = Placement::Packed;  // fat-tree: nodes onto leaves

  int nodes() const { return (workers + gpus_per_node - 1) / gpus_per_node; }
};

struct ComputeSpec {
  // Exactly one of the two ways is set by the loader.
  std::optional<double> forward_backward_s;  // whole step of one worker at its batch
  std::string gpu;                           // profile GPU entry for the roofline
  double efficiency = 0.0;                   // fraction of the GPU's peak reached
  // Compression kernels that share CPU cores (sim/training/kernel_sharing.h):
  // the workers are spread evenly over `hosts` machines (0: one per node),
  // whose kernels run on `cores_per_host` cores (0: every worker has its own
  // processor, a GPU: no sharing).
  int cores_per_host = 0;
  int hosts = 0;
  // `gcsim train` only (the simulator prices the same times either way):
  // sleep these times instead of computing (train/emulate/emulated_trainer.h),
  // for this many steps.
  bool emulate = false;
  int emulate_steps = 12;
};


// Options of the collective algorithms (the algorithm itself is Scenario::algorithm).
struct CollectiveSpec {
  int servers = 1;   // parameter server: server ranks (ranks 0 .. servers-1)
  int chunks = 1;    // pipelining: a ring step's chunk, or a tree's half, in this many messages
};

// Slow workers: a per-worker, per-iteration multiplier on compute time.
struct SlowWorker {
  int rank = 0;
  double factor = 1.0;  // >= 1: compute takes this many times as long
};
struct StragglerSpec {
  double cv = 0.0;            // lognormal multiplier with mean 1 and this coefficient of variation
  std::uint64_t seed = 1;
  std::vector<SlowWorker> slow;
  bool any() const { return cv > 0.0 || !slow.empty(); }
};

struct TrainingSpec {
  double bucket_mb = 25.0;       // MiB (2^20 bytes), as PyTorch DDP's bucket_cap_mb
  bool overlap = true;           // communication overlaps backward compute
  // Where a bucket's compression kernels run: on a stream of their own, so
  // bucket b+1 compresses while bucket b's collective runs (a GPU's DDP), or
  // on the communication stream itself, so each bucket is compressed,
  // exchanged and decompressed before the next begins (gcsim train's
  // communication thread, a blocking DDP comm hook).
  bool shared_compression_stream = false;
  int iterations = 1;
};

struct Scenario {
  std::string name;
  std::string source_path;
  ModelSpec model;
  int batch_per_worker = 1;
  ComputeSpec compute;
  ClusterSpec cluster;
  Algorithm algorithm = Algorithm::Ring;
  CollectiveSpec collective;
  CompressionSpec compression;
  TrainingSpec training;
  StragglerSpec stragglers;
  Profile profile;
};

const char* to_string(TopologyKind);
const char* to_string(Algorithm);
const char* to_string(Placement);

}  // namespace gcsim
