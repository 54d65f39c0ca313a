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

const char* to_string(Method m) {
  switch (m) {
    case Method::None: return "none";
    case Method::TopK: return "topk";
    case Method::RandomK: return "randomk";
    case Method::Threshold: return "threshold";
  }
  return "?";
}

const char* to_string(Granularity g) {
  switch (g) {
    case Granularity::Layer: return "layer";
    case Granularity::Bucket: return "bucket";
    case Granularity::Model: return "model";
  }
  return "?";
}

const char* to_string(Exchange e) {
  switch (e) {
    case Exchange::Allgather: return "allgather";
    case Exchange::Dense: return "dense";
  }
  return "?";
}

}  // namespace gcsim
