// Training keys of a scenario file (see train_loader.h).
#include "config/train_loader.h"

#include "sim/training/compression_cost.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "compress/method.h"
#include "config/input_error.h"
#include "config/sweep_loader.h"
#include "train/data/dataset.h"
#include "train/model/memory_estimate.h"
#include "sim/output/result_format.h"

namespace gcsim {

const std::vector<std::string> kTrainOnlyTrainingKeys = {"epochs", "seed"};
const std::vector<std::string> kTrainOnlyTables = {"optimizer", "data"};

namespace {

int bounded_int(const TableReader& r, const char* key, std::int64_t lo, std::int64_t hi, std::int64_t fallback) {
  const std::int64_t v = r.integer(key, fallback);
  if (v < lo || v > hi)
    r.fail(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] (got " + std::to_string(v) + ")");
  return static_cast<int>(v);
}

// This machine's memory (all the workers of a run share it: processes on one
// host, or threads).
double physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
}

std::string gigabytes(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GB", bytes / 1e9);
  return b;
}

// [compute] emulate = true: any model (the zoo's or a custom one) whose
// gradients, residuals and buffers the workers can hold in this machine's memory.
void check_emulated(const train::TrainConfig& cfg, const TableReader& root) {
  const auto& s = cfg.scenario;
  const auto& c = s.compression;
  if (compress::method(c.method).sparsifies() && c.index_bytes == 8)
    root.sub("compression", true)->fail("index_bytes", "training packs int32 indices (every tensor is < 2^31)");
  // Per worker: the pristine gradient, the gradient, the residual and the
  // method's buffers, about six copies of the parameters.
  const double need = s.cluster.workers * 6.0 * 4.0 * static_cast<double>(s.model.total_params());
  const double have = physical_memory_bytes();
  if (have > 0 && need > have)
    root.sub("compute", true)->fail("emulate", "needs about " + gigabytes(need) + " of memory for " +
                                                   std::to_string(s.cluster.workers) + " emulated worker(s) of " +
                                                   s.model.name + ", more than this machine's " + gigabytes(have) +
                                                   "; lower cluster.workers");
}

}  // namespace

const std::vector<std::string> kSimulateOnlyModelKeys = {"params", "forward_flops", "layers"};

train::TrainSettings read_train_settings(const ScenarioSource& src) {
  const TableReader root(src.root, "", src.ctx);
  train::TrainSettings s;
  if (const auto t = root.sub("training", false)) {
    s.epochs = bounded_int(*t, "epochs", 1, 100000, 1);
    const std::int64_t seed = t->integer("seed", 1);
    if (seed < 0) t->fail("seed", "must be >= 0 (got " + std::to_string(seed) + ")");
    s.seed = static_cast<std::uint64_t>(seed);
  }
  if (const auto o = root.sub("optimizer", false)) {
    o->reject_unknown({"lr", "momentum", "weight_decay"});
    s.lr = o->number("lr", s.lr);
    if (!(s.lr > 0.0 && std::isfinite(s.lr))) o->fail("lr", "must be > 0 (got " + format_number(s.lr) + ")");
    s.momentum = o->number("momentum", s.momentum);
    if (!(s.momentum >= 0.0 && s.momentum < 1.0))
      o->fail("momentum", "must be in [0, 1) (got " + format_number(s.momentum) + ")");
    s.weight_decay = o->number("weight_decay", s.weight_decay);
    if (!(s.weight_decay >= 0.0 && std::isfinite(s.weight_decay)))
      o->fail("weight_decay", "must be >= 0 (got " + format_number(s.weight_decay) + ")");
  }
  s.data_dir = train::kDefaultFashionMnistDir;
  if (const auto d = root.sub("data", false)) {
    d->reject_unknown({"dir", "limit_train", "limit_test", "shuffle"});
    s.data_dir = d->path("dir", s.data_dir);  // relative to the scenario file, or to the cwd for --set
    if (s.data_dir.empty()) d->fail("dir", "must not be empty");
    const int max = std::numeric_limits<int>::max();
    if (d->has("limit_train")) s.limit_train = bounded_int(*d, "limit_train", 1, max, 1);
    if (d->has("limit_test")) s.limit_test = bounded_int(*d, "limit_test", 1, max, 1);
    s.shuffle = d->boolean("shuffle", true);
  }
  return s;
}

train::TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& assignments) {
  ScenarioSource src = read_scenario_source(path);
  apply_sets(src, assignments);
  return load_train_config(src);
}

train::TrainConfig load_sweep_point_config(const std::string& sweep_path, std::size_t point,
                                           const std::vector<std::string>& assignments) {
  const SweepSpec spec = load_sweep(sweep_path);
  if (point >= spec.point_count())
    throw InputError("--sweep-point " + std::to_string(point), "",
                     sweep_path + " has " + std::to_string(spec.point_count()) + " points (0 .. " +
                         std::to_string(spec.point_count() - 1) + ")");
  ScenarioSource src = spec.point_source(read_scenario_source(spec.base_path), point);
  apply_sets(src, assignments);
  return load_train_config(src);
}

train::TrainConfig load_train_config(const ScenarioSource& src) {
  const TableReader raw(src.root, "", src.ctx);
  const auto compute = raw.sub("compute", false);
  const bool emulate = compute && compute->has("emulate") && compute->boolean("emulate", false);
  // A custom model's keys describe a model to price, not one train can build:
  // train trains the real SimpleCNN, so they would be silently ignored (the
  // emulated worker takes any model).
  if (const auto m = raw.sub("model", false); m && !emulate)
    for (const auto& key : kSimulateOnlyModelKeys)
      if (m->has(key))
        m->fail(key, "is for gcsim simulate only: gcsim train trains the real SimpleCNN (202,738 parameters); "
                     "remove it (or the --set), or set compute.emulate = true to emulate its compute");
  train::TrainConfig cfg{build_scenario(src), read_train_settings(src), {}};
  // compression.exchange = "auto": the exchange the simulator prices cheapest
  // for this scenario's cluster and profile, the same on every worker.
  cfg.scenario.compression = resolve_auto(cfg.scenario, &cfg.auto_choice);
  const TableReader root(src.root, "", src.ctx);
  const auto model = root.sub("model", true);
  if (cfg.scenario.compute.emulate) {
    check_emulated(cfg, root);
    return cfg;
  }
  if (cfg.scenario.model.name != "simplecnn")
    model->fail("name", "gcsim train runs the zoo's \"simplecnn\" only (got \"" + cfg.scenario.model.name +
                            "\"; set compute.emulate = true to emulate its compute)");
  const auto& c = cfg.scenario.compression;
  if (compress::method(c.method).sparsifies() && c.index_bytes == 8)
    root.sub("compression", true)->fail("index_bytes", "training packs int32 indices (every tensor is < 2^31)");
  if (cfg.settings.limit_train && *cfg.settings.limit_train < cfg.scenario.cluster.workers)
    root.sub("data", true)->fail("limit_train", "must be >= cluster.workers = " +
                                                   std::to_string(cfg.scenario.cluster.workers));
  // Refuse a batch this machine cannot hold before any worker allocates it.
  const int workers = cfg.scenario.cluster.workers;
  const auto batch = static_cast<std::size_t>(cfg.scenario.batch_per_worker);
  const std::size_t train_images = static_cast<std::size_t>(cfg.settings.limit_train.value_or(60000));
  const std::size_t test_images = static_cast<std::size_t>(cfg.settings.limit_test.value_or(10000));
  const double need = workers * train::worker_host_bytes(batch, kTrainEvalBatch, train_images, test_images);
  const double have = physical_memory_bytes();
  if (have > 0 && need > have) {
    char per_image[32];
    std::snprintf(per_image, sizeof per_image, "%.0f KB", train::kSimpleCnnBytesPerImage / 1e3);
    model->fail("batch_per_worker", "needs about " + gigabytes(need) + " of memory for " + std::to_string(workers) +
                                        " worker(s) (SimpleCNN's activations and gradients take " + per_image +
                                        " per image of the batch, plus the data), more than this machine's " +
                                        gigabytes(have) + "; lower it");
  }
  return cfg;
}

}  // namespace gcsim
