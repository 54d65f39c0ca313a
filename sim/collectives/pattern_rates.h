// Max-min fair rates of a set of flows that are all active together: the
// progressive filling the network runs (sim/network/network.h), once, for a
// pattern of connections whose messages always start and end together
// (fast_ring.h checks that they do). Each flow is a list of directed link ids.
#pragma once

#include <vector>

namespace gcsim {

// capacity(link) for every link id used; returns one rate per flow.
std::vector<double> pattern_rates(const std::vector<const std::vector<int>*>& flows, const std::vector<double>& capacity);

}  // namespace gcsim
