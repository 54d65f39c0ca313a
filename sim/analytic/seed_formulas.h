// The problem statement's own formulas (shared/seeds/000, "P0 - Problem
// Formulation"), reproduced as written so golden tests and `gcsim report
// seed` can show what they give, beside what gcsim's models give.
// reports/seed-errata.md lists where the seed's printed numbers do not follow.
#pragma once

namespace gcsim::seed {

// Section 2.1: gradient size S = 4N bytes (fp32).
double gradient_bytes(double params);
// Section 2.1 table, as its numbers are computed: S / B (one transfer of the
// gradient). Equal to the ring allreduce time at P = 2 with alpha = 0.
double table_comm_time_s(double params, double gbps);
// The ring allreduce the text names: 2(P-1)/P * S / B (alpha = 0).
double ring_allreduce_time_s(double params, int workers, double gbps);
// Section 2.2 / 5.2: E = (Tc/P) / (Tc/P + Tcomm) = 1 / (1 + P Tcomm / Tc).
double efficiency(double t_compute_s, double t_comm_s, int workers);
// Section 5.1: bytes_baseline / bytes_compressed = 4 / (rho (4 + index_bytes)); 1/(3 rho) for int64.
double reduction(double rho, int index_bytes);
// Section 5.2 as written: T_comm = 2 x S / (B / 8)  with S in MB and B in Gbps,
// i.e. 2 S / (B GB/s / 8) -- evaluates to 70.4 ms for 44 MB at 10 Gbps.
double section_5_2_comm_time_s(double gradient_mb, double gbps);

}  // namespace gcsim::seed
