// The methods compress/registry.cpp lists, one accessor per file.
#pragma once

#include "compress/method.h"

namespace gcsim::compress {

const Method& dense_method();      // dense.cpp      "none"
const Method& topk_method();       // topk.cpp       "topk"
const Method& randomk_method();    // randomk.cpp    "randomk"
const Method& threshold_method();  // threshold.cpp  "threshold"
const Method& fp16_method();       // half_precision.cpp "fp16"
const Method& bf16_method();       // half_precision.cpp "bf16"
const Method& signsgd_method();    // signsgd.cpp    "signsgd"
const Method& qsgd_method();       // qsgd.cpp       "qsgd"
const Method& powersgd_method();   // powersgd.cpp   "powersgd"

}  // namespace gcsim::compress
