// Recursive halving-doubling (Rabenseifner) as messages: the schedule face of
// halving_doubling.h. With P' = 2^floor(log2 P) and r = P - P': extra rank
// P'+i hands its whole vector to rank i (i < r) and gets the result back at
// the end. Core rank x then exchanges with x XOR 2^s for s = 0..log2 P' - 1
// (halving, n / 2^(s+1) bytes), and again for s = log2 P' - 1..0 (doubling).
// Each exchange's send needs the previous exchange's data, so a rank sends
// step k+1 when step k's message from its partner has arrived. Exchanges are
// rendezvous, as MPI sends its large messages: the data moves once both
// partners have reached the step, so a rank that is ahead does not push into
// a partner still busy with the extra ranks' hand-off.
#pragma once

#include <memory>

#include "sim/collectives/schedule.h"

namespace gcsim {

std::unique_ptr<CollectiveSchedule> halving_doubling_schedule(const ScheduleContext& ctx, int P, double bytes);

}  // namespace gcsim
