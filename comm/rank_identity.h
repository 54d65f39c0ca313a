// Who this process is when every rank is started on its own, as a cluster
// scheduler starts them (gcsim train --rendezvous; no launcher): its rank and
// the world size, from --rank / --world-size, else from the scheduler's
// environment, Slurm's SLURM_PROCID / SLURM_NTASKS or Open MPI's
// OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE (mpirun), in that order; and
// the run's name in the rendezvous directory, --run-id, else Slurm's
// SLURM_JOB_ID (with SLURM_STEP_ID), else "gcsim".
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace gcsim::comm {

struct RankIdentity {
  int rank = 0;
  int world_size = 1;
  std::string source;  // where they came from: "--rank/--world-size", "SLURM_PROCID/SLURM_NTASKS", ...
  std::string run_id;
};

// getenv: the environment (std::getenv in the program; a table in tests).
// Throws std::invalid_argument with a one-line message naming the flag or
// variable at fault: a rank that is not an integer in [0, world size), a
// world size < 1, only one of the pair, or no source at all.
RankIdentity rank_identity(std::optional<int> rank_flag, std::optional<int> world_flag, const std::string& run_id_flag,
                           const std::function<const char*(const char*)>& getenv);

}  // namespace gcsim::comm
