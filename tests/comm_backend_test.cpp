// The choice of communicator for gcsim train --comm auto|gloo|nccl
// (comm/choose_backend.h), with the GPU count and NCCL's availability
// injected so that every branch runs without a GPU; and, in builds with NCCL,
// libnccl loaded at run time (comm/nccl_api.h: ncclGetVersion needs no GPU)
// and the NCCL communicator's refusal on a machine without one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "comm/choose_backend.h"

#if GCSIM_HAVE_NCCL
#include "comm/nccl_api.h"
#include "comm/nccl_comm.h"
#endif

using namespace gcsim::comm;

namespace {

// A probe that answers `gpus` and `problem`, and counts how often it was asked.
struct FakeProbe {
  int gpus = 0;
  std::string problem;
  int* asked = nullptr;
  NcclAvailability operator()() const {
    if (asked != nullptr) ++*asked;
    return {gpus, problem};
  }
};

CommRequest request(const std::string& comm, bool cuda, int ranks_on_host = 2, bool exec_prefix = false) {
  return {comm, cuda, ranks_on_host, exec_prefix};
}

std::string refusal(const CommRequest& r, const FakeProbe& probe) {
  try {
    choose_backend(r, probe);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("comm choice: auto on the cpu is gloo without asking for GPUs", "[comm][choice]") {
  int asked = 0;
  CHECK(choose_backend(request("auto", false), FakeProbe{8, "", &asked}) == Backend::Gloo);
  CHECK(asked == 0);
  CHECK(backend_name(Backend::Gloo) == "gloo");
  CHECK(backend_name(Backend::Nccl) == "nccl");
}

TEST_CASE("comm choice: auto with cuda is nccl on 2 or more usable GPUs - else gloo", "[comm][choice]") {
  CHECK(choose_backend(request("auto", true, 2), FakeProbe{1, ""}) == Backend::Gloo);
  CHECK(choose_backend(request("auto", true, 1), FakeProbe{1, ""}) == Backend::Gloo);
  CHECK(choose_backend(request("auto", true, 2), FakeProbe{2, ""}) == Backend::Nccl);
  CHECK(choose_backend(request("auto", true, 4), FakeProbe{8, ""}) == Backend::Nccl);
  CHECK(choose_backend(request("auto", true, 0), FakeProbe{2, ""}) == Backend::Nccl);  // ranks per host unknown
  // not a GPU per rank: NCCL would refuse two ranks on one GPU
  CHECK(choose_backend(request("auto", true, 4), FakeProbe{2, ""}) == Backend::Gloo);
  // NCCL does not load, or no GPU works
  CHECK(choose_backend(request("auto", true, 2), FakeProbe{0, "cannot load NCCL (libnccl.so.2): not found"}) ==
        Backend::Gloo);
  CHECK(choose_backend(request("auto", true, 2), FakeProbe{4, "cannot load NCCL"}) == Backend::Gloo);
  // ranks under an --exec-prefix (emulated links, other hosts): gloo, and the GPUs are not asked about
  int asked = 0;
  CHECK(choose_backend(request("auto", true, 2, true), FakeProbe{8, "", &asked}) == Backend::Gloo);
  CHECK(asked == 0);
}

TEST_CASE("comm choice: gloo is always allowed", "[comm][choice]") {
  int asked = 0;
  CHECK(choose_backend(request("gloo", false), FakeProbe{0, "no GPU", &asked}) == Backend::Gloo);
  CHECK(choose_backend(request("gloo", true), FakeProbe{8, "", &asked}) == Backend::Gloo);
  CHECK(choose_backend(request("gloo", true, 16, true), FakeProbe{1, "", &asked}) == Backend::Gloo);
  CHECK(asked == 0);
}

TEST_CASE("comm choice: nccl where it can run - one GPU and one rank is enough", "[comm][choice]") {
  CHECK(choose_backend(request("nccl", true, 1), FakeProbe{1, ""}) == Backend::Nccl);
  CHECK(choose_backend(request("nccl", true, 2), FakeProbe{2, ""}) == Backend::Nccl);
  CHECK(choose_backend(request("nccl", true, 0), FakeProbe{1, ""}) == Backend::Nccl);
  CHECK(choose_backend(request("nccl", true, 8, true), FakeProbe{1, ""}) == Backend::Nccl);  // layout unknown: allowed
}

TEST_CASE("comm choice: nccl on the cpu is refused with one line naming --comm and --device cuda", "[comm][choice]") {
  int asked = 0;
  const std::string e = refusal(request("nccl", false), FakeProbe{8, "", &asked});
  CHECK(e.rfind("--comm nccl: ", 0) == 0);
  CHECK(e.find("needs --device cuda") != std::string::npos);
  CHECK(e.find('\n') == std::string::npos);
  CHECK(asked == 0);
}

TEST_CASE("comm choice: nccl where it cannot run says why", "[comm][choice]") {
  std::string e = refusal(request("nccl", true, 2), FakeProbe{0, "no usable GPU: no CUDA-capable device is detected"});
  CHECK(e == "--comm nccl: NCCL cannot be used here: no usable GPU: no CUDA-capable device is detected");
  e = refusal(request("nccl", true, 1), FakeProbe{2, "cannot load NCCL (libnccl.so.2): libnccl.so.2: cannot open"});
  CHECK(e == "--comm nccl: NCCL cannot be used here: cannot load NCCL (libnccl.so.2): libnccl.so.2: cannot open");
  e = refusal(request("nccl", true, 1), FakeProbe{0, ""});
  CHECK(e == "--comm nccl: NCCL cannot be used here: no GPU found");
  e = refusal(request("nccl", true, 4), FakeProbe{2, ""});
  CHECK(e == "--comm nccl: 4 ranks on this host but 2 GPUs (NCCL needs a GPU for each rank; use --comm gloo)");
  e = refusal(request("nccl", true, 2), FakeProbe{1, ""});
  CHECK(e == "--comm nccl: 2 ranks on this host but 1 GPU (NCCL needs a GPU for each rank; use --comm gloo)");
}

TEST_CASE("comm choice: an unknown --comm value is refused", "[comm][choice]") {
  for (const char* bad : {"bogus", "", "NCCL", "mpi"}) {
    INFO(bad);
    CHECK(refusal(request(bad, true), FakeProbe{8, ""}) == std::string("--comm ") + bad +
                                                               ": must be auto, gloo or nccl");
  }
}

TEST_CASE("comm choice: the real probe answers without throwing and gives a reason when NCCL is unusable",
          "[comm][choice]") {
  const NcclAvailability a = nccl_availability();
  INFO("gpus " << a.gpus << ", problem: " << a.problem);
  if (a.problem.empty()) {
    CHECK(a.gpus >= 1);
  } else {
    CHECK(a.gpus == 0);
    CHECK(a.problem.find('\n') == std::string::npos);
#if !GCSIM_HAVE_CUDA
    CHECK(a.problem == "this gcsim was built without CUDA (no nvcc at configure time)");
#endif
  }
  // auto on the cpu never needs it; gloo always works
  CHECK(choose_backend(request("auto", false)) == Backend::Gloo);
  CHECK(choose_backend(request("gloo", true)) == Backend::Gloo);
  if (!a.problem.empty()) {
    CHECK(choose_backend(request("auto", true)) == Backend::Gloo);
    CHECK_THROWS_WITH(choose_backend(request("nccl", true)),
                      Catch::StartsWith("--comm nccl: NCCL cannot be used here: " + a.problem));
    CHECK_THROWS_AS(make_communicator(Backend::Nccl, 0, 1, GlooOptions{}), std::runtime_error);
  }
}

#if GCSIM_HAVE_NCCL

namespace {

// Where nccl_api() looks for the library by path (the loader path aside).
bool nccl_library_file_present() {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs = {"/usr/local/cuda/lib", "/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu",
                                   "/usr/lib64", "/usr/lib"};
  if (const char* ld = std::getenv("LD_LIBRARY_PATH")) {
    std::string s = ld;
    for (std::size_t start = 0; start <= s.size();) {
      const std::size_t colon = s.find(':', start);
      dirs.push_back(s.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  std::error_code ec;
  for (const std::string& d : dirs)
    if (!d.empty() && fs::exists(fs::path(d) / "libnccl.so.2", ec)) return true;
  return false;
}

}  // namespace

TEST_CASE("nccl_api: version codes read as major.minor.patch", "[comm][nccl]") {
  CHECK(nccl::version_string(22809) == "2.28.9");
  CHECK(nccl::version_string(21903) == "2.19.3");
  CHECK(nccl::version_string(20900) == "2.9.0");
  CHECK(nccl::version_string(2708) == "2.7.8");  // the old encoding, NCCL <= 2.8
  CHECK(nccl::version_string(NCCL_VERSION_CODE) ==
        std::to_string(NCCL_MAJOR) + "." + std::to_string(NCCL_MINOR) + "." + std::to_string(NCCL_PATCH));
}

TEST_CASE("nccl_api: libnccl loads at run time and reports its version without a GPU", "[comm][nccl]") {
  const bool present = nccl_library_file_present();
  try {
    const nccl::NcclApi& api = nccl::nccl_api();
    INFO(api.library << " version " << api.version);
    CHECK(!api.library.empty());
    CHECK(api.library.find("libnccl.so.2") != std::string::npos);
    CHECK(api.version >= 20000);
    const std::string v = nccl::version_string(api.version);
    CHECK(v.rfind("2.", 0) == 0);
    CHECK(std::count(v.begin(), v.end(), '.') == 2);
    int again = 0;
    REQUIRE(api.get_version(&again) == ncclSuccess);
    CHECK(again == api.version);
    // every entry point is bound
    const auto bound = [](auto f) { return f != nullptr; };
    CHECK(bound(api.get_unique_id));
    CHECK(bound(api.comm_init_rank));
    CHECK(bound(api.comm_init_all));
    CHECK(bound(api.comm_destroy));
    CHECK(bound(api.comm_abort));
    CHECK(bound(api.get_async_error));
    CHECK(bound(api.get_error_string));
    CHECK(bound(api.all_reduce));
    CHECK(bound(api.all_gather));
    CHECK(bound(api.reduce_scatter));
    CHECK(bound(api.broadcast));
    CHECK(bound(api.send));
    CHECK(bound(api.recv));
    CHECK(bound(api.group_start));
    CHECK(bound(api.group_end));
    CHECK(&nccl::nccl_api() == &api);  // process-wide, loaded once
    // check(): success passes; an error is CommError("what: <NCCL's string>")
    CHECK_NOTHROW(nccl::check(ncclSuccess, "ncclNothing"));
    CHECK_THROWS_AS(nccl::check(ncclInvalidArgument, "ncclSomething"), CommError);
    CHECK_THROWS_WITH(nccl::check(ncclInvalidArgument, "ncclSomething"),
                      std::string("ncclSomething: ") + api.get_error_string(ncclInvalidArgument));
  } catch (const std::runtime_error& e) {
    if (present) FAIL("libnccl.so.2 is installed but nccl_api() failed: " << e.what());
    CHECK(std::string(e.what()).find("libnccl.so.2") != std::string::npos);
    WARN("skipped: libnccl.so.2 is not installed (" << e.what() << ")");
  }
}

TEST_CASE("NcclComm: bad arguments are refused before NCCL - and without a GPU it says why", "[comm][nccl]") {
  GlooOptions o;
  o.timeout = std::chrono::milliseconds(2000);
  CHECK_THROWS_AS(NcclComm(1, 1, 0, o), std::invalid_argument);
  CHECK_THROWS_AS(NcclComm(0, 0, 0, o), std::invalid_argument);
  CHECK_THROWS_AS(NcclComm(0, 1, -1, o), std::invalid_argument);
  CHECK_THROWS_WITH(NcclComm(0, 2, 0, o), Catch::Contains("no store"));  // 2 ranks need a store to meet in
  int gpus = 0;
  std::string why;
  try {
    gpus = nccl_device_count();
  } catch (const std::runtime_error& e) {
    why = e.what();
  }
  INFO("gpus " << gpus << ": " << why);
  if (gpus == 0) {
    CHECK(!why.empty());
    CHECK(nccl_availability().problem == why);
    // a communicator cannot be made: an error, not a crash or a hang
    CHECK_THROWS_AS(NcclComm(0, 1, 0, o), std::runtime_error);
    CHECK_THROWS_AS(make_communicator(Backend::Nccl, 0, 1, o), std::runtime_error);
  } else {
    CHECK(nccl_availability().gpus == gpus);  // the [gpu] tests run the communicator
  }
}

#endif  // GCSIM_HAVE_NCCL
