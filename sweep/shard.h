// A sweep spread over machines: `gcsim sweep --shard I/N` runs the points p
// with p mod N = I (a Slurm array task or a GNU parallel job each), and
// `gcsim sweep merge --out DIR SHARD_DIR...` joins their results.csv into the
// one the whole sweep would have written, byte for byte.
//
// Each shard's directory holds, beside results.csv, DIR/shard.txt: the sweep's
// name, its point count, the shard, the column layout, the header and every
// point's identity (a hash of what --resume checks in a row: the
// configuration columns, the swept values and config_hash). merge refuses
// shards of different sweeps, a shard missing or given twice, a row in the
// wrong shard or doubled, a row whose identity is not its point's, and a point
// no shard finished (run that shard again with --resume).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gcsim {

struct Shard {
  std::size_t index = 0, count = 1;
  bool active() const { return count > 1; }
  bool owns(std::size_t point) const { return point % count == index; }
};

// "I/N" with 0 <= I < N; throws InputError naming --shard.
Shard parse_shard(const std::string& text);

struct ShardRecord {
  std::string sweep;
  std::size_t points = 0;
  Shard shard;
  std::size_t config_columns = 0, metric_columns = 0, axis_columns = 0;
  std::string header;
  std::vector<std::string> identities;  // per point, 16 hex digits
};

// A row's identity from its configuration and axis fields and its config_hash.
std::string point_identity(const std::vector<std::string>& config, const std::vector<std::string>& axes,
                           const std::string& hash);

std::string shard_record_text(const ShardRecord& r);
// Throws InputError naming the file on anything malformed.
ShardRecord read_shard_record(const std::string& path);

struct MergeOutcome {
  std::size_t points = 0, shards = 0;
  std::string results_csv;
};

// Writes out_dir/results.csv from the shards' (whole or not at all); force:
// replace an existing one.
MergeOutcome merge_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir, bool force);

}  // namespace gcsim
