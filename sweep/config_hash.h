// The identity of a sweep point: a 64-bit FNV-1a hash of a canonical
// serialisation of its validated Scenario, the resolved Profile included
// (every field, numbers by their exact bits). File text, formatting, comments
// and file paths do not enter it; every value the simulator reads does.
// Labels that the simulator never reads (the scenario's name), the
// training-only keys of `gcsim train`, and, for dense training (method
// "none"), the compression settings it ignores (ratio, index_bytes,
// error_feedback, momentum_correction, exchange; granularity stays: it shapes
// the buckets) are not part of it: such points are the same simulation.
//
// Stored in results.csv's `config_hash` column: --resume keeps a row only
// when its hash matches the point's, and points with equal hashes are
// simulated once. Changing the serialisation changes every stored hash, so a
// field added to Scenario or Profile must be added here (and it will refuse
// to resume files written before).
#pragma once

#include <cstdint>
#include <string>

#include "sim/scenario.h"

namespace gcsim {

std::string canonical_config(const Scenario& s);  // one line per field, "key=value"
std::uint64_t config_hash(const Scenario& s);
std::string config_hash_hex(const Scenario& s);   // 16 lowercase hex digits

std::uint64_t fnv1a64(const std::string& bytes);

}  // namespace gcsim
