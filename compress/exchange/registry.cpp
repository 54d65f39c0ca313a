// compression.exchange -> its SparseExchange (sparse_exchange.h). A new way
// of exchanging pairs is a new file here plus one line below.
#include "compress/exchange/sparse_exchange.h"

#include <stdexcept>

namespace gcsim::compress {

const SparseExchange& allgather_exchange();
const SparseExchange& dense_exchange();
const SparseExchange& gtopk_exchange();
const SparseExchange& sparse_allreduce_exchange();
const SparseExchange& hierarchical_exchange();

const SparseExchange& sparse_exchange(Exchange e) {
  for (const SparseExchange* x : {&allgather_exchange(), &dense_exchange(), &gtopk_exchange(),
                                  &sparse_allreduce_exchange(), &hierarchical_exchange()})
    if (x->kind() == e) return *x;
  throw std::logic_error(std::string("sparse_exchange: no exchange '") + to_string(e) + "'");
}

}  // namespace gcsim::compress
