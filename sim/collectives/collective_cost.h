// What one collective costs one rank: time, and bytes on the wire.
#pragma once

namespace gcsim {

struct CollectiveCost {
  double time_s = 0.0;
  double bytes_sent = 0.0;      // per rank, averaged over ranks
  double bytes_received = 0.0;  // per rank, averaged over ranks
};

}  // namespace gcsim
