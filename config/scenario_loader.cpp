#include "config/scenario_loader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "config/input_error.h"
#include "config/overrides.h"
#include "config/profile_loader.h"
#include "config/run_limits.h"
#include "config/train_loader.h"
#include "compress/method.h"
#include "models/zoo.h"
#include "sim/training/buckets.h"
#include "sim/output/result_format.h"

#ifndef GCSIM_DEFAULT_PROFILE
#define GCSIM_DEFAULT_PROFILE "scenarios/profiles/default.toml"
#endif

namespace gcsim {

namespace {

// Physical bounds of every quantity (docs/limits.md has the table).
namespace bound {
constexpr double kBandwidthGbps[] = {1e-3, 1e6};
constexpr double kLatencyUs[] = {0, 1e6};
constexpr double kStepMs[] = {1e-6, 1e8};
constexpr double kEfficiency[] = {1e-4, 1};
constexpr double kBucketMb[] = {1e-6, 1e6};
constexpr double kOversubscription[] = {1, 1e3};
constexpr double kSlowFactor[] = {1, 1e3};
constexpr double kFlopsPerSample = 1e18;  // per layer, per sample
constexpr std::int64_t kParams = 10'000'000'000'000;  // 1e13, per layer and in all
constexpr std::int64_t kWorkers = 100'000'000;
constexpr std::int64_t kPerNode = 1024;  // GPUs or NICs per node
constexpr std::int64_t kFatTreeSwitches = 1'000'000;  // nodes per leaf, spines
constexpr std::int64_t kBatch = 100'000'000;
constexpr std::int64_t kIterations = 1'000'000'000;
constexpr std::int64_t kCompressionRank = 1'000'000;  // PowerSGD's r
constexpr std::int64_t kQsgdChunk = std::int64_t{1} << 40;  // QSGD's entries per norm
constexpr std::int64_t kStartIter = 1'000'000'000;    // PowerSGD's start_iter
}  // namespace bound

// A number in [range[0], range[1]] (`unit` for the message).
double in_range(const TableReader& r, const char* key, const double (&range)[2], const char* unit,
                std::optional<double> fallback = std::nullopt) {
  const double v = r.number(key, fallback);
  if (!(v >= range[0] && v <= range[1]))
    r.fail(key, "must be in [" + format_number(range[0]) + ", " + format_number(range[1]) + "]" +
                    (*unit ? std::string(" ") + unit : "") + " (got " + format_number(v) + ")");
  return v;
}

std::int64_t int_in_range(const TableReader& r, const char* key, std::int64_t min, std::int64_t max,
                          std::optional<std::int64_t> fallback) {
  const std::int64_t v = r.integer(key, fallback);
  if (v < min) r.fail(key, "must be >= " + std::to_string(min) + " (got " + std::to_string(v) + ")");
  if (v > max) r.fail(key, "must be <= " + std::to_string(max) + " (got " + std::to_string(v) + ")");
  return v;
}

int int_at_least(const TableReader& r, const char* key, std::int64_t min, std::int64_t max,
                 std::optional<std::int64_t> fallback) {
  static_assert(bound::kIterations <= std::numeric_limits<int>::max());
  return static_cast<int>(int_in_range(r, key, min, std::min<std::int64_t>(max, std::numeric_limits<int>::max()), fallback));
}

double flops(const TableReader& r) {
  const double v = r.number("forward_flops", 0.0);
  if (!(v >= 0.0 && v <= bound::kFlopsPerSample))
    r.fail("forward_flops", "must be in [0, " + format_number(bound::kFlopsPerSample) + "] FLOPs per sample (got " +
                                format_number(v) + ")");
  return v;
}

ModelSpec read_model(const TableReader& m) {
  m.reject_unknown({"name", "params", "forward_flops", "layers", "batch_per_worker"});
  const bool has_layers = m.has("layers");
  const bool has_params = m.has("params");
  if (has_layers && has_params) m.fail("params", "give either 'params' or 'layers', not both");

  ModelSpec spec;
  if (has_layers || has_params) {
    spec.name = m.string("name", "custom");
    spec.sample_unit = "sample";
    if (has_params) {
      Layer l;
      l.name = spec.name;
      l.kind = "custom";
      l.params = int_in_range(m, "params", 1, bound::kParams, std::nullopt);
      l.forward_flops = flops(m);
      spec.layers.push_back(l);
    } else {
      if (m.has("forward_flops")) m.fail("forward_flops", "give FLOPs per layer inside 'layers'");
      const auto layers = m.table_array("layers");
      if (layers.empty()) m.fail("layers", "must list at least one layer");
      std::int64_t total = 0;
      for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto& lr = layers[i];
        lr.reject_unknown({"name", "params", "forward_flops"});
        Layer l;
        l.name = lr.string("name", "layer" + std::to_string(i));
        l.kind = "custom";
        l.params = int_in_range(lr, "params", 0, bound::kParams, std::nullopt);
        l.forward_flops = flops(lr);
        total += l.params;
        if (total > bound::kParams)
          lr.fail("params", "the layers hold more than " + std::to_string(bound::kParams) + " parameters in all");
        spec.layers.push_back(l);
      }
      if (spec.total_params() < 1) m.fail("layers", "the layers hold no parameters");
    }
    return spec;
  }
  if (m.has("forward_flops")) m.fail("forward_flops", "only for a custom model (with 'params')");
  const std::string name = m.choice("name", zoo_names());
  return *find_model(name);
}

LinkClass read_link(const TableReader& l) {
  l.reject_unknown({"bandwidth_gbps", "latency_us"});
  LinkClass c;
  c.bandwidth_gbps = in_range(l, "bandwidth_gbps", bound::kBandwidthGbps, "Gb/s");
  c.latency_us = in_range(l, "latency_us", bound::kLatencyUs, "us", 0.0);
  return c;
}

template <typename E>
E pick(const std::string& v, const std::vector<std::pair<const char*, E>>& table) {
  for (const auto& [name, e] : table)
    if (v == name) return e;
  throw std::logic_error("unmapped choice " + v);
}

template <typename E>
std::vector<std::string> names_of(const std::vector<std::pair<const char*, E>>& table) {
  std::vector<std::string> out;
  for (const auto& [name, e] : table) out.emplace_back(name);
  return out;
}

const std::vector<std::pair<const char*, TopologyKind>> kTopologies = {
    {"switch", TopologyKind::Switch}, {"two-level", TopologyKind::TwoLevel}, {"fat-tree", TopologyKind::FatTree},
    {"ring", TopologyKind::Ring}};
const std::vector<std::pair<const char*, Algorithm>> kAlgorithms = {
    {"ring", Algorithm::Ring},
    {"tree", Algorithm::Tree},
    {"halving-doubling", Algorithm::HalvingDoubling},
    {"hierarchical", Algorithm::Hierarchical},
    {"ps", Algorithm::ParameterServer},
    {"auto", Algorithm::Auto}};
const std::vector<std::pair<const char*, Placement>> kPlacements = {{"packed", Placement::Packed},
                                                                    {"spread", Placement::Spread}};
const std::vector<std::pair<const char*, Granularity>> kGranularities = {
    {"layer", Granularity::Layer}, {"bucket", Granularity::Bucket}, {"model", Granularity::Model}};
const std::vector<std::pair<const char*, Exchange>> kExchanges = {
    {"allgather", Exchange::Allgather}, {"dense", Exchange::Dense}, {"gtopk", Exchange::Gtopk},
    {"sparse-allreduce", Exchange::SparseAllreduce}, {"hierarchical", Exchange::Hierarchical},
    {"auto", Exchange::Auto}};

template <typename E>
E read_choice(const TableReader& r, const char* key, const std::vector<std::pair<const char*, E>>& table,
              const char* fallback) {
  return pick(r.choice(key, names_of(table), std::string(fallback)), table);
}

ClusterSpec read_cluster(const TableReader& c) {
  c.reject_unknown({"workers", "gpus_per_node", "topology", "nics_per_node", "oversubscription", "nodes_per_leaf",
                    "spines", "placement", "intra_node", "inter_node"});
  ClusterSpec s;
  s.workers = int_at_least(c, "workers", 1, bound::kWorkers, std::nullopt);
  s.gpus_per_node = int_at_least(c, "gpus_per_node", 1, bound::kPerNode, 1);
  s.topology = read_choice(c, "topology", kTopologies, s.gpus_per_node > 1 ? "two-level" : "switch");
  s.nics_per_node = int_at_least(c, "nics_per_node", 1, bound::kPerNode, 1);
  s.oversubscription = in_range(c, "oversubscription", bound::kOversubscription, "", 1.0);
  if (c.has("oversubscription") && s.topology != TopologyKind::FatTree)
    c.fail("oversubscription", "applies only to topology = \"fat-tree\"");
  s.nodes_per_leaf = int_at_least(c, "nodes_per_leaf", 1, bound::kFatTreeSwitches, 16);
  s.spines = int_at_least(c, "spines", 0, bound::kFatTreeSwitches, 0);
  s.placement = read_choice(c, "placement", kPlacements, "packed");
  for (const char* key : {"nodes_per_leaf", "spines", "placement"})
    if (c.has(key) && s.topology != TopologyKind::FatTree) c.fail(key, "applies only to topology = \"fat-tree\"");
  if (s.gpus_per_node > 1 && (s.topology == TopologyKind::Switch || s.topology == TopologyKind::Ring))
    c.fail("topology", std::string("'") + to_string(s.topology) +
                           "' has one GPU per host; use \"two-level\" or \"fat-tree\" with gpus_per_node > 1");
  if (s.workers > s.gpus_per_node && s.workers % s.gpus_per_node != 0)
    c.fail("workers", "must be a multiple of gpus_per_node = " + std::to_string(s.gpus_per_node) +
                          " when it spans several nodes (got " + std::to_string(s.workers) + ")");
  s.inter_node = read_link(*c.sub("inter_node", true));
  if (auto intra = c.sub("intra_node", s.gpus_per_node > 1)) s.intra_node = read_link(*intra);
  return s;
}

// `measured`: the profile has [layer_times] for the scenario's model, which
// then gives the step (sim/training/compute_time.cpp), so neither key is needed.
ComputeSpec read_compute(const TableReader& c, const Profile& profile, bool measured) {
  c.reject_unknown({"forward_backward_ms", "gpu", "efficiency", "emulate", "emulate_steps", "cores_per_host", "hosts"});
  ComputeSpec s;
  s.cores_per_host = static_cast<int>(int_in_range(c, "cores_per_host", 0, 1 << 20, 0));
  if (c.has("hosts")) {  // else 0: one host per node
    if (s.cores_per_host == 0) c.fail("hosts", "applies only with cores_per_host > 0");
    s.hosts = static_cast<int>(int_in_range(c, "hosts", 1, bound::kWorkers, std::nullopt));
  }
  s.emulate = c.boolean("emulate", false);
  if (c.has("emulate_steps") && !s.emulate) c.fail("emulate_steps", "applies only with emulate = true");
  s.emulate_steps = static_cast<int>(int_in_range(c, "emulate_steps", 1, 100000, 12));
  const bool fb = c.has("forward_backward_ms");
  const bool gpu = c.has("gpu");
  if (fb && gpu) c.fail("gpu", "give exactly one of 'forward_backward_ms' or 'gpu' (a roofline from the profile)");
  if (!fb && !gpu) {
    if (measured) return s;  // the profile's measured step
    c.fail("", "give exactly one of 'forward_backward_ms' or 'gpu' (a roofline from the profile), or a profile with "
               "[layer_times] for the model (tools/profile_model.py)");
  }
  if (fb) {
    if (c.has("efficiency")) c.fail("efficiency", "applies only with 'gpu'");
    s.forward_backward_s = in_range(c, "forward_backward_ms", bound::kStepMs, "ms") * 1e-3;
    return s;
  }
  std::vector<std::string> gpus;
  for (const auto& [name, e] : profile.gpus) gpus.push_back(name);
  s.gpu = c.choice("gpu", gpus);
  s.efficiency = in_range(c, "efficiency", bound::kEfficiency, "", profile.gpus.at(s.gpu).default_efficiency);
  return s;
}

CompressionSpec read_compression(const TableReader& c) {
  c.reject_unknown({"method", "ratio", "index_bytes", "error_feedback", "momentum_correction", "granularity",
                    "exchange", "rank", "start_iter", "warm_start", "min_compression_rate", "majority_vote", "bits",
                    "chunk", "warmup_epochs"});
  CompressionSpec s;
  // Keys a method does not read are accepted (a sweep may set ratio for every
  // point of a method axis); the config hash and outputs name only the
  // method's own (compress::Method::options()).
  s.method = c.choice("method", compress::method_names(), std::string("none"));
  const compress::Method& m = compress::method(s.method);
  s.ratio = c.number("ratio", 0.01);
  if (!(s.ratio > 0.0 && s.ratio <= 1.0)) c.fail("ratio", "must be in (0, 1] (got " + format_number(s.ratio) + ")");
  const std::int64_t idx = c.integer("index_bytes", 4);
  if (idx != 4 && idx != 8) c.fail("index_bytes", "must be 4 (int32) or 8 (int64) (got " + std::to_string(idx) + ")");
  s.index_bytes = static_cast<int>(idx);
  s.error_feedback = c.boolean("error_feedback", true);
  s.momentum_correction = c.boolean("momentum_correction", false);
  if (s.momentum_correction && (!m.sparsifies() || !s.error_feedback))
    c.fail("momentum_correction", "needs a sparsifying method (topk, randomk, threshold) with error_feedback = true");
  s.granularity = read_choice(c, "granularity", kGranularities, "bucket");
  s.exchange = read_choice(c, "exchange", kExchanges, "allgather");
  s.rank = int_at_least(c, "rank", 1, bound::kCompressionRank, 4);
  s.start_iter = int_at_least(c, "start_iter", 0, bound::kStartIter, 0);
  s.warm_start = c.boolean("warm_start", true);
  s.min_compression_rate = c.number("min_compression_rate", 2.0);
  if (!(s.min_compression_rate > 0.0 && s.min_compression_rate <= 1e6))
    c.fail("min_compression_rate", "must be in (0, 1e6] (got " + format_number(s.min_compression_rate) + ")");
  s.majority_vote = c.boolean("majority_vote", false);
  s.warmup_epochs = int_at_least(c, "warmup_epochs", 0, 100000, 0);
  const std::int64_t bits = c.integer("bits", 8);
  if (bits != 2 && bits != 4 && bits != 8) c.fail("bits", "must be 2, 4 or 8 (got " + std::to_string(bits) + ")");
  s.bits = static_cast<int>(bits);
  s.chunk = int_in_range(c, "chunk", 0, bound::kQsgdChunk, 0);
  if (auto e = m.validate(s)) c.fail(e->key, e->message);
  return s;
}

// [collective]: the algorithm and its options. Needs the cluster (servers <= workers).
void read_collective(const TableReader& c, const ClusterSpec& cluster, Scenario& s) {
  c.reject_unknown({"algorithm", "servers", "chunks"});
  s.algorithm = read_choice(c, "algorithm", kAlgorithms, "ring");
  if (s.algorithm == Algorithm::Hierarchical && cluster.gpus_per_node < 2)
    c.fail("algorithm", "'hierarchical' needs cluster.gpus_per_node > 1");
  if (c.has("servers") && s.algorithm != Algorithm::ParameterServer)
    c.fail("servers", "applies only to algorithm = \"ps\"");
  s.collective.servers = int_at_least(c, "servers", 1, bound::kWorkers, 1);
  if (s.collective.servers > cluster.workers)
    c.fail("servers", "must be <= cluster.workers = " + std::to_string(cluster.workers) + " (got " +
                          std::to_string(s.collective.servers) + ")");
  const std::int64_t chunks = c.integer("chunks", 1);
  if (chunks < 1 || chunks > 4096) c.fail("chunks", "must be in [1, 4096] (got " + std::to_string(chunks) + ")");
  s.collective.chunks = static_cast<int>(chunks);
}

// [stragglers]: per-worker compute multipliers. Needs the cluster (rank < workers).
StragglerSpec read_stragglers(const TableReader& t, const ClusterSpec& cluster) {
  t.reject_unknown({"cv", "seed", "slow"});
  StragglerSpec s;
  s.cv = t.number("cv", 0.0);
  if (!(s.cv >= 0.0 && s.cv <= 10.0)) t.fail("cv", "must be in [0, 10] (got " + format_number(s.cv) + ")");
  const std::int64_t seed = t.integer("seed", 1);
  if (seed < 0) t.fail("seed", "must be >= 0 (got " + std::to_string(seed) + ")");
  s.seed = static_cast<std::uint64_t>(seed);
  if (!t.has("slow")) return s;
  const auto slow = t.table_array("slow");
  for (const auto& w : slow) {
    w.reject_unknown({"rank", "factor"});
    SlowWorker sw;
    const std::int64_t rank = w.integer("rank");
    if (rank < 0 || rank >= cluster.workers)
      w.fail("rank", "must be in [0, cluster.workers = " + std::to_string(cluster.workers) + ") (got " +
                         std::to_string(rank) + ")");
    sw.rank = static_cast<int>(rank);
    for (const auto& prev : s.slow)
      if (prev.rank == sw.rank) w.fail("rank", "rank " + std::to_string(rank) + " is listed twice");
    sw.factor = in_range(w, "factor", bound::kSlowFactor, "");
    s.slow.push_back(sw);
  }
  return s;
}

TrainingSpec read_training(const TableReader& t) {
  std::vector<std::string> keys = {"bucket_mb", "overlap", "iterations", "compression_stream"};
  keys.insert(keys.end(), kTrainOnlyTrainingKeys.begin(), kTrainOnlyTrainingKeys.end());
  t.reject_unknown(keys);
  TrainingSpec s;
  s.bucket_mb = in_range(t, "bucket_mb", bound::kBucketMb, "MiB", 25.0);
  s.overlap = t.boolean("overlap", true);
  s.iterations = int_at_least(t, "iterations", 1, bound::kIterations, 1);
  s.shared_compression_stream = t.choice("compression_stream", {"separate", "shared"}, std::string("separate")) == "shared";
  return s;
}

}  // namespace

std::string default_profile_path() {
  if (const char* env = std::getenv("GCSIM_DEFAULT_PROFILE"); env && *env) return env;
  return GCSIM_DEFAULT_PROFILE;
}

ScenarioSource read_scenario_source(const std::string& path) {
  ScenarioSource src;
  src.path = path;
  src.root = parse_toml_file(path);
  src.ctx = std::make_shared<TomlContext>();
  src.ctx->file = path;
  return src;
}

void apply_sets(ScenarioSource& src, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) apply_set_flag(src.root, a, *src.ctx);
}

Scenario build_scenario(const ScenarioSource& src) {
  const TableReader r(src.root, "", src.ctx);
  std::vector<std::string> tables = {"name",        "description", "profile",  "model",     "compute",
                                     "cluster",     "collective",  "compression", "training", "stragglers"};
  tables.insert(tables.end(), kTrainOnlyTables.begin(), kTrainOnlyTables.end());
  r.reject_unknown(tables);
  Scenario s;
  s.source_path = src.path;
  s.name = r.string("name", std::filesystem::path(src.path).stem().string());
  r.string("description", "");

  const std::string profile_path = r.path("profile", default_profile_path());
  try {
    s.profile = load_profile(profile_path);
  } catch (const InputError& e) {
    if (!r.has("profile")) throw;
    r.fail("profile", std::string("in the profile it names: ") + e.what());
  }

  const auto model = r.sub("model", true);
  s.model = read_model(*model);
  s.batch_per_worker = int_at_least(*model, "batch_per_worker", 1, bound::kBatch, std::nullopt);
  s.compute = read_compute(*r.sub("compute", true), s.profile, s.profile.layer_times.count(s.model.name) > 0);
  s.cluster = read_cluster(*r.sub("cluster", true));
  if (s.compute.hosts > s.cluster.workers)
    r.sub("compute", true)->fail("hosts", "must be <= cluster.workers = " + std::to_string(s.cluster.workers) +
                                              " (got " + std::to_string(s.compute.hosts) + ")");

  if (const auto coll = r.sub("collective", false)) read_collective(*coll, s.cluster, s);
  if (const auto comp = r.sub("compression", false)) s.compression = read_compression(*comp);
  s.compression.node_size = std::max(1, std::min(s.cluster.gpus_per_node, s.cluster.workers));
  if (s.compression.exchange == Exchange::Hierarchical && s.cluster.gpus_per_node < 2)
    r.sub("compression", true)->fail("exchange", "\"hierarchical\" needs a two-level cluster (cluster.gpus_per_node > 1)");
  if (const auto tr = r.sub("training", false)) s.training = read_training(*tr);
  if (const auto st = r.sub("stragglers", false)) s.stragglers = read_stragglers(*st, s.cluster);

  // int32 indices address one compression unit: a layer, a bucket or the whole model.
  if (compress::method(s.compression.method).sparsifies() && s.compression.index_bytes == 4) {
    const auto comp = r.sub("compression", true);
    if (s.compression.granularity == Granularity::Model) {
      if (s.model.total_params() > std::numeric_limits<std::int32_t>::max())
        comp->fail("index_bytes", "int32 indices cannot address " + std::to_string(s.model.total_params()) +
                                      " parameters; use 8 or a finer granularity");
    } else {
      std::int64_t largest = 0;
      if (s.compression.granularity == Granularity::Layer) {
        for (const Layer& l : s.model.layers) largest = std::max(largest, l.params);
      } else {
        for (const Bucket& b : make_buckets(s.model, s.training.bucket_mb * 1024.0 * 1024.0, Granularity::Bucket))
          largest = std::max(largest, b.params);
      }
      if (largest > std::numeric_limits<std::int32_t>::max())
        comp->fail("index_bytes", "int32 indices cannot address the largest " +
                                      std::string(to_string(s.compression.granularity)) + " (" +
                                      std::to_string(largest) + " parameters); use 8");
    }
  }
  read_train_settings(src);  // the training keys are checked for simulate too: one file, both uses
  return s;
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& assignments,
                       std::string_view backend) {
  ScenarioSource src = read_scenario_source(path);
  apply_sets(src, assignments);
  Scenario s = build_scenario(src);
  validate_run(s, src, backend);
  return s;
}

}  // namespace gcsim
