#include "sim/scenario.h"

namespace gcsim {

const char* to_string(TopologyKind t) {
  switch (t) {
    case TopologyKind::Switch: return "switch";
    case TopologyKind::TwoLevel: return "two-level";
    case TopologyKind::FatTree: return "fat-tree";
    case TopologyKind::Ring: return "ring";
  }
  return "?";
}

const char* to_string(Algorithm a) {
  switch (a) {
    case Algorithm::Ring: return "ring";
    case Algorithm::Tree: return "tree";
    case Algorithm::HalvingDoubling: return "halving-doubling";
    case Algorithm::Hierarchical: return "hierarchical";
    case Algorithm::ParameterServer: return "ps";
    case Algorithm::Auto: return "auto";
  }
  return "?";
}

const char* to_string(Placement p) {
  switch (p) {
    case Placement::Packed: return "packed";
    case Placement::Spread: return "spread";
  }
  return "?";
}




}  // namespace gcsim
