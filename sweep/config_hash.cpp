#include "sweep/config_hash.h"

#include <variant>

#include "compress/method.h"

#include <cstdio>
#include <cstring>

namespace gcsim {

namespace {

// Appends "key=value\n" lines; doubles as their IEEE-754 bits in hex, so any
// change of value changes the text and equal values give equal text.
class Canon {
 public:
  void add(const std::string& key, const std::string& v) {
    out_ += key;
    out_ += '=';
    out_ += std::to_string(v.size());  // length-prefixed: no value can fake a separator
    out_ += ':';
    out_ += v;
    out_ += '\n';
  }
  void add(const std::string& key, double v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    char buf[32];
    std::snprintf(buf, sizeof buf, "d%016llx", static_cast<unsigned long long>(bits));
    add(key, std::string(buf));
  }
  void add(const std::string& key, std::int64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "i%lld", static_cast<long long>(v));
    add(key, std::string(buf));
  }
  void add(const std::string& key, std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "u%llu", static_cast<unsigned long long>(v));
    add(key, std::string(buf));
  }
  void add(const std::string& key, int v) { add(key, static_cast<std::int64_t>(v)); }
  void add(const std::string& key, bool v) { add(key, std::string(v ? "true" : "false")); }
  void add(const std::string& key, const char* v) { add(key, std::string(v)); }
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

void add_link(Canon& c, const std::string& p, const LinkClass& l) {
  c.add(p + ".bandwidth_gbps", l.bandwidth_gbps);
  c.add(p + ".latency_us", l.latency_us);
}

void add_profile(Canon& c, const Profile& p) {
  c.add("profile.name", p.name);
  c.add("profile.device", p.device);
  c.add("profile.measured_on", p.measured_on);
  c.add("profile.collective_alpha_s", p.collective_alpha_s);
  c.add("profile.collective_launch_s", p.collective_launch_s);
  c.add("profile.intra_node_efficiency", p.intra_node_efficiency);
  c.add("profile.inter_node_efficiency", p.inter_node_efficiency);
  // Only where a profile has them, so that the hashes of profiles without
  // per-family figures (every result written before they existed) stay.
  for (const auto& [family, f] : p.collective_families) {
    const std::string q = "profile.collective." + family;
    c.add(q + ".launch_s", f.launch_s);
    c.add(q + ".intra.alpha_s", f.intra.alpha_s);
    c.add(q + ".intra.efficiency", f.intra.efficiency);
    c.add(q + ".inter.alpha_s", f.inter.alpha_s);
    c.add(q + ".inter.efficiency", f.inter.efficiency);
  }
  // Measured per-layer compute, likewise only where a profile has it.
  for (const auto& [model, l] : p.layer_times) {
    const std::string q = "profile.layer_times." + model;
    c.add(q + ".batch", static_cast<std::int64_t>(l.batch));
    c.add(q + ".step_s", l.step_s);
    for (std::size_t i = 0; i < l.forward_s.size(); ++i) {
      c.add(q + ".forward_s." + std::to_string(i), l.forward_s[i]);
      c.add(q + ".backward_s." + std::to_string(i), l.backward_s[i]);
    }
  }
  c.add("profile.kernels", static_cast<std::int64_t>(p.kernels.size()));
  for (const auto& [name, k] : p.kernels) {
    const std::string q = "profile.kernels." + name;
    c.add(q + ".alpha_s", k.alpha_s);
    c.add(q + ".per_element_s", k.per_element_s);
    c.add(q + ".per_selected_s", k.per_selected_s);
  }
  c.add("profile.gpus", static_cast<std::int64_t>(p.gpus.size()));
  for (const auto& [name, g] : p.gpus) {
    const std::string q = "profile.gpus." + name;
    c.add(q + ".name", g.name);
    c.add(q + ".peak_flops", g.peak_flops);
    c.add(q + ".memory_bandwidth", g.memory_bandwidth);
    c.add(q + ".default_efficiency", g.default_efficiency);
  }
}

}  // namespace

std::string canonical_config(const Scenario& s) {
  Canon c;
  c.add("gcsim.config", "v1");  // bump when the serialisation changes
  c.add("model.name", s.model.name);
  c.add("model.sample_unit", s.model.sample_unit);
  c.add("model.layers", static_cast<std::int64_t>(s.model.layers.size()));
  for (std::size_t i = 0; i < s.model.layers.size(); ++i) {
    const auto& l = s.model.layers[i];
    const std::string q = "model.layers." + std::to_string(i);
    c.add(q + ".name", l.name);
    c.add(q + ".kind", l.kind);
    c.add(q + ".params", l.params);
    c.add(q + ".forward_flops", l.forward_flops);
  }
  c.add("model.batch_per_worker", s.batch_per_worker);

  c.add("compute.forward_backward_s.set", s.compute.forward_backward_s.has_value());
  c.add("compute.forward_backward_s", s.compute.forward_backward_s.value_or(0.0));
  c.add("compute.gpu", s.compute.gpu);
  c.add("compute.efficiency", s.compute.efficiency);
  if (s.compute.cores_per_host > 0) {  // only then: older hashes stay valid
    c.add("compute.cores_per_host", static_cast<double>(s.compute.cores_per_host));
    c.add("compute.hosts", static_cast<double>(s.compute.hosts));
  }

  const auto& k = s.cluster;
  c.add("cluster.workers", k.workers);
  c.add("cluster.gpus_per_node", k.gpus_per_node);
  c.add("cluster.topology", to_string(k.topology));
  add_link(c, "cluster.intra_node", k.intra_node);
  add_link(c, "cluster.inter_node", k.inter_node);
  c.add("cluster.nics_per_node", k.nics_per_node);
  c.add("cluster.oversubscription", k.oversubscription);
  c.add("cluster.nodes_per_leaf", k.nodes_per_leaf);
  c.add("cluster.spines", k.spines);
  c.add("cluster.placement", to_string(k.placement));

  c.add("collective.algorithm", to_string(s.algorithm));
  c.add("collective.servers", s.collective.servers);
  c.add("collective.chunks", s.collective.chunks);

  const auto& z = s.compression;
  c.add("compression.method", z.method);
  // Only the keys the method reads: dense points that differ in ratio alone are one point.
  for (std::string_view key : compress::method(z.method).options()) {
    if (key == "granularity") continue;  // added below for every method
    std::visit([&](const auto& v) { c.add("compression." + std::string(key), v); }, option_value(z, key));
  }
  c.add("compression.granularity", to_string(z.granularity));  // buckets follow it, dense too

  c.add("training.bucket_mb", s.training.bucket_mb);
  c.add("training.overlap", s.training.overlap);
  c.add("training.iterations", s.training.iterations);
  if (s.training.shared_compression_stream) c.add("training.compression_stream", std::string("shared"));  // older hashes stay valid

  c.add("stragglers.cv", s.stragglers.cv);
  c.add("stragglers.seed", s.stragglers.seed);
  c.add("stragglers.slow", static_cast<std::int64_t>(s.stragglers.slow.size()));
  for (std::size_t i = 0; i < s.stragglers.slow.size(); ++i) {
    const std::string q = "stragglers.slow." + std::to_string(i);
    c.add(q + ".rank", s.stragglers.slow[i].rank);
    c.add(q + ".factor", s.stragglers.slow[i].factor);
  }
  add_profile(c, s.profile);
  return c.text();
}

std::uint64_t fnv1a64(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::uint64_t config_hash(const Scenario& s) { return fnv1a64(canonical_config(s)); }

std::string config_hash_hex(const Scenario& s) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(config_hash(s)));
  return buf;
}

}  // namespace gcsim
