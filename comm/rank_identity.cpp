#include "comm/rank_identity.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace gcsim::comm {

namespace {

// The integer in `text`, or nullopt when it is not one (empty, trailing junk, out of range).
std::optional<long> integer(const char* text) {
  if (!text || !*text) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < -2147483647L || v > 2147483647L) return std::nullopt;
  return v;
}

RankIdentity checked(long rank, long world, const std::string& rank_name, const std::string& world_name) {
  if (world < 1) throw std::invalid_argument(world_name + ": the world size must be >= 1 (got " + std::to_string(world) + ")");
  if (rank < 0 || rank >= world)
    throw std::invalid_argument(rank_name + ": the rank must be in [0, " + std::to_string(world) + ") (got " +
                                std::to_string(rank) + ")");
  return {static_cast<int>(rank), static_cast<int>(world), rank_name + "/" + world_name, ""};
}

}  // namespace

RankIdentity rank_identity(std::optional<int> rank_flag, std::optional<int> world_flag, const std::string& run_id_flag,
                           const std::function<const char*(const char*)>& getenv) {
  RankIdentity id;
  if (rank_flag || world_flag) {
    if (!rank_flag || !world_flag) throw std::invalid_argument("--rank and --world-size go together (one is missing)");
    id = checked(*rank_flag, *world_flag, "--rank", "--world-size");
  } else {
    bool found = false;
    for (const auto& [r, w] : {std::pair{"SLURM_PROCID", "SLURM_NTASKS"},
                               std::pair{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"}}) {
      const char* rv = getenv(r);
      const char* wv = getenv(w);
      if (!rv && !wv) continue;
      if (!rv || !wv)
        throw std::invalid_argument(std::string(rv ? w : r) + " is not set, but " + (rv ? r : w) + " is");
      const auto rank = integer(rv), world = integer(wv);
      if (!rank) throw std::invalid_argument(std::string(r) + "=" + rv + ": not an integer");
      if (!world) throw std::invalid_argument(std::string(w) + "=" + wv + ": not an integer");
      id = checked(*rank, *world, r, w);
      found = true;
      break;
    }
    if (!found)
      throw std::invalid_argument(
          "no rank: give --rank and --world-size, or run under Slurm (SLURM_PROCID) or mpirun (OMPI_COMM_WORLD_RANK)");
  }
  if (!run_id_flag.empty()) {
    id.run_id = run_id_flag;
  } else if (const char* job = getenv("SLURM_JOB_ID"); job && *job) {
    id.run_id = std::string("slurm-") + job;
    if (const char* step = getenv("SLURM_STEP_ID"); step && *step) id.run_id += std::string(".") + step;
  } else {
    id.run_id = "gcsim";
  }
  for (char c : id.run_id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      throw std::invalid_argument("--run-id " + id.run_id + ": only letters, digits, '-', '_' and '.'");
  return id;
}

}  // namespace gcsim::comm
