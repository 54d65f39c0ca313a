// Bad input: every class gets one line naming file:line:col and the key.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/did_you_mean.h"
#include "config/input_error.h"
#include "config/scenario_loader.h"
#include "config/sweep_loader.h"
#include "tests/scenario_fixture.h"

namespace fs = std::filesystem;
using gcsim::InputError;

namespace {

using gcsim::test::contains;
using gcsim::test::error_of;
using gcsim::test::replace;
using gcsim::test::write_temp;
const std::string& kValid = gcsim::test::kValidScenario;

}  // namespace

TEST_CASE("the valid scenario loads", "[config]") {
  const auto s = gcsim::load_scenario(write_temp("ok.toml", kValid));
  CHECK(s.model.total_params() == 25557032);
  CHECK(s.cluster.workers == 8);
  CHECK(s.cluster.inter_node.bandwidth_gbps == 10.0);
  CHECK(s.compression.method == std::string("topk"));
  CHECK(s.compression.index_bytes == 4);          // default
  CHECK(s.training.bucket_mb == 25.0);            // default
  CHECK(s.profile.name == "published-h100");      // the shipped default profile
}

TEST_CASE("unknown keys are rejected with a suggestion", "[config][bad-input]") {
  const std::string m = error_of(replace(kValid, "workers = 8", "wrokers = 8"));
  CHECK(contains(m, "s.toml:10:1"));
  CHECK(contains(m, "cluster.wrokers"));
  CHECK(contains(m, "did you mean 'cluster.workers'?"));
  const std::string top = error_of(kValid + "\n[trainig]\niterations = 2\n");
  CHECK(contains(top, "trainig"));
  CHECK(contains(top, "did you mean 'training'?"));
}

TEST_CASE("wrong types are rejected", "[config][bad-input]") {
  const std::string m = error_of(replace(kValid, "workers = 8", "workers = \"eight\""));
  CHECK(contains(m, "s.toml:10:11"));
  CHECK(contains(m, "cluster.workers: expected an integer, got string"));
  CHECK(contains(error_of(replace(kValid, "workers = 8", "workers = 8.5")), "expected an integer, got float"));
  CHECK(contains(error_of(replace(kValid, "ratio = 0.01", "ratio = true")), "compression.ratio: expected a number"));
  CHECK(contains(error_of("compute = 3\n" + replace(kValid, "[compute]\nforward_backward_ms = 100.0", "")),
                 "s.toml:1:11: compute: expected a table, got integer"));
}

TEST_CASE("missing required keys are rejected", "[config][bad-input]") {
  CHECK(contains(error_of(replace(kValid, "workers = 8\n", "")), "cluster.workers: missing required key"));
  const std::string bw = error_of(replace(kValid, "bandwidth_gbps = 10.0\n", ""));
  CHECK(contains(bw, "s.toml:11:1"));  // located at the table header
  CHECK(contains(bw, "cluster.inter_node.bandwidth_gbps: missing required key"));
  CHECK(contains(error_of(replace(kValid, "batch_per_worker = 32\n", "")), "model.batch_per_worker: missing"));
  CHECK(contains(error_of(replace(kValid, "[compute]\nforward_backward_ms = 100.0", "")),
                 "compute: missing required table [compute]"));
  CHECK(contains(error_of(replace(kValid, "forward_backward_ms = 100.0", "")),
                 "give exactly one of 'forward_backward_ms' or 'gpu'"));
}

TEST_CASE("out-of-range values are rejected", "[config][bad-input]") {
  for (const char* r : {"0.0", "1.5", "-0.1"}) {
    const std::string m = error_of(replace(kValid, "ratio = 0.01", std::string("ratio = ") + r));
    CHECK(contains(m, "s.toml:17:9"));
    CHECK(contains(m, "compression.ratio: must be in (0, 1]"));
  }
  CHECK(error_of(replace(kValid, "ratio = 0.01", "ratio = 1.0")).empty());  // rho = 1 is allowed
  CHECK(contains(error_of(replace(kValid, "workers = 8", "workers = 0")), "cluster.workers: must be >= 1 (got 0)"));
  CHECK(contains(error_of(replace(kValid, "bandwidth_gbps = 10.0", "bandwidth_gbps = 0")),
                 "cluster.inter_node.bandwidth_gbps: must be in [0.001, 1000000] Gb/s (got 0)"));
  CHECK(contains(error_of(replace(kValid, "bandwidth_gbps = 10.0", "bandwidth_gbps = -3")), "must be in [0.001, 1000000] Gb/s (got -3)"));
  CHECK(contains(error_of(replace(kValid, "bandwidth_gbps = 10.0", "bandwidth_gbps = nan")), "must be in [0.001, 1000000] Gb/s (got nan)"));
  CHECK(contains(error_of(replace(kValid, "ratio = 0.01", "ratio = 0.01\nindex_bytes = 2")),
                 "compression.index_bytes: must be 4 (int32) or 8 (int64)"));
  CHECK(contains(error_of(replace(kValid, "workers = 8", "workers = 12\ngpus_per_node = 8")),
                 "cluster.workers: must be a multiple of gpus_per_node"));
}

TEST_CASE("unknown algorithm and model names are rejected with a suggestion", "[config][bad-input]") {
  const std::string m = error_of(replace(kValid, "name = \"resnet50\"", "name = \"resnet5\""));
  CHECK(contains(m, "s.toml:3:8"));
  CHECK(contains(m, "model.name: unknown value 'resnet5', did you mean 'resnet50'?"));
  const std::string a = error_of(kValid + "[collective]\nalgorithm = \"rign\"\n");
  CHECK(contains(a, "collective.algorithm: unknown value 'rign', did you mean 'ring'?"));
  CHECK(contains(a, "halving-doubling"));  // lists what is allowed
  CHECK(contains(error_of(replace(kValid, "method = \"topk\"", "method = \"top-k\"")), "did you mean 'topk'?"));
}

TEST_CASE("TOML syntax errors name file:line:col", "[config][bad-input]") {
  const std::string m = error_of(replace(kValid, "workers = 8", "workers = = 8"));
  CHECK(contains(m, "s.toml:10:"));
  CHECK(contains(m, "TOML syntax error"));
  CHECK(contains(error_of("[model\nname = 1\n"), "TOML syntax error"));
}

TEST_CASE("set flags override any key and is named in errors", "[config]") {
  const std::string path = write_temp("set.toml", kValid);
  const auto s = gcsim::load_scenario(path, {"cluster.workers=64", "compression.ratio=0.001", "model.name=vgg16",
                                            "collective.algorithm=\"tree\""});
  CHECK(s.cluster.workers == 64);
  CHECK(s.compression.ratio == 0.001);
  CHECK(s.model.name == "vgg16");
  CHECK(s.algorithm == gcsim::Algorithm::Tree);
  CHECK(contains(error_of(kValid, {"cluster.workers=0"}), "--set cluster.workers=0: cluster.workers: must be >= 1"));
  CHECK(contains(error_of(kValid, {"cluster.wrkers=4"}), "did you mean 'cluster.workers'?"));
  CHECK(contains(error_of(kValid, {"cluster.workers=abc"}), "expected an integer, got string"));
  CHECK(contains(error_of(kValid, {"novalue"}), "--set novalue: expected key=value"));
  CHECK(contains(error_of(kValid, {"cluster.workers.x=1"}), "'cluster.workers' is an integer, not a table"));
}

TEST_CASE("custom models: params or a layers list", "[config]") {
  const auto p = gcsim::load_scenario(
      write_temp("p.toml", replace(kValid, "name = \"resnet50\"", "params = 23_000_000")));
  CHECK(p.model.total_params() == 23000000);
  const auto l = gcsim::load_scenario(write_temp(
      "l.toml", replace(kValid, "name = \"resnet50\"",
                        "layers = [{name = \"a\", params = 10, forward_flops = 100.0}, {params = 5}]")));
  REQUIRE(l.model.layers.size() == 2);
  CHECK(l.model.layers[0].forward_flops == 100.0);
  CHECK(l.model.layers[1].name == "layer1");
  CHECK(contains(error_of(replace(kValid, "name = \"resnet50\"", "layers = [{params = -1}]")),
                 "model.layers[0].params: must be >= 0"));
  CHECK(contains(error_of(replace(kValid, "name = \"resnet50\"", "layers = [{parms = 1}]")),
                 "did you mean 'model.layers[0].params'?"));
}

TEST_CASE("did-you-mean distance", "[config]") {
  CHECK(gcsim::edit_distance("kitten", "sitting") == 3);
  CHECK(gcsim::edit_distance("", "abc") == 3);
  CHECK(gcsim::edit_distance("rign", "ring") == 1);
  CHECK(gcsim::closest_match("wrokers", {"workers", "topology"}) == "workers");
  CHECK(gcsim::closest_match("zzzzzz", {"workers", "topology"}).empty());
}

TEST_CASE("sweep files: axes in file order - linked keys - located errors", "[config][sweep]") {
  const std::string base = write_temp("base.toml", kValid);
  const std::string sw = write_temp("sw.toml", "base = \"base.toml\"\n[axes]\n\"cluster.workers\" = [2, 4, 8]\n"
                                               "\"model.name|model.batch_per_worker\" = [[\"resnet18\", 16], [\"gpt2-small\", 4]]\n");
  const auto spec = gcsim::load_sweep(sw);
  REQUIRE(spec.axes.size() == 2);
  CHECK(spec.axes[0].key == "cluster.workers");
  CHECK(spec.point_count() == 6);
  const auto src = gcsim::read_scenario_source(base);
  const auto s5 = gcsim::build_scenario(spec.point_source(src, 5));  // workers 8, gpt2-small, batch 4
  CHECK(s5.cluster.workers == 8);
  CHECK(s5.model.name == "gpt2-small");
  CHECK(s5.batch_per_worker == 4);

  const std::string bad = write_temp("bad.toml", "base = \"base.toml\"\n[axes]\n\"cluster.workers\" = [2, 0]\n");
  const auto bad_spec = gcsim::load_sweep(bad);
  try {
    gcsim::build_scenario(bad_spec.point_source(src, 1));
    FAIL("point with workers = 0 validated");
  } catch (const InputError& e) {
    CHECK(contains(e.what(), "bad.toml:3:25"));
    CHECK(contains(e.what(), "cluster.workers: must be >= 1"));
  }
  const std::string missing = write_temp("m.toml", "base = \"nope.toml\"\n[axes]\n");
  CHECK_THROWS_WITH(gcsim::load_sweep(missing), Catch::Contains("m.toml:1:8: base: file not found"));
  const std::string zip = write_temp("z.toml", "base = \"base.toml\"\n[axes]\n\"a.b|c.d\" = [[1]]\n");
  CHECK_THROWS_WITH(gcsim::load_sweep(zip), Catch::Contains("list of 2 entries"));
}

// ------------------------------------------------ fat-tree, collective, stragglers ----

TEST_CASE("fat-tree keys: nodes_per_leaf - spines - placement", "[config]") {
  const auto d = gcsim::load_scenario(write_temp("d.toml", kValid));
  CHECK(d.cluster.nodes_per_leaf == 16);  // defaults
  CHECK(d.cluster.spines == 0);
  CHECK(d.cluster.placement == gcsim::Placement::Packed);

  const auto s = gcsim::load_scenario(write_temp(
      "ft.toml", replace(kValid, "workers = 8",
                         "workers = 8\ntopology = \"fat-tree\"\nnodes_per_leaf = 4\nspines = 2\nplacement = \"spread\"")));
  CHECK(s.cluster.topology == gcsim::TopologyKind::FatTree);
  CHECK(s.cluster.nodes_per_leaf == 4);
  CHECK(s.cluster.spines == 2);
  CHECK(s.cluster.placement == gcsim::Placement::Spread);
  CHECK(std::string(gcsim::to_string(s.cluster.placement)) == "spread");
  const auto p = gcsim::load_scenario(write_temp(
      "ft0.toml", replace(kValid, "workers = 8", "workers = 8\ntopology = \"fat-tree\"\nspines = 0\nplacement = \"packed\"")));
  CHECK(p.cluster.spines == 0);
  CHECK(p.cluster.placement == gcsim::Placement::Packed);
}

TEST_CASE("fat-tree keys: located errors", "[config][bad-input]") {
  const std::string ft = "workers = 8\ntopology = \"fat-tree\"\n";
  const std::string npl = error_of(replace(kValid, "workers = 8", ft + "nodes_per_leaf = 0"));
  CHECK(contains(npl, "s.toml:12:18: cluster.nodes_per_leaf: must be >= 1 (got 0)"));
  CHECK(contains(error_of(replace(kValid, "workers = 8", ft + "spines = -1")),
                 "s.toml:12:10: cluster.spines: must be >= 0 (got -1)"));
  CHECK(contains(error_of(replace(kValid, "workers = 8", ft + "spines = 2.5")),
                 "cluster.spines: expected an integer, got float"));
  CHECK(contains(error_of(replace(kValid, "workers = 8", ft + "placement = \"sprad\"")),
                 "s.toml:12:13: cluster.placement: unknown value 'sprad', did you mean 'spread'?"));
  // Only with topology = "fat-tree": reported at the key.
  CHECK(contains(error_of(replace(kValid, "workers = 8", "workers = 8\nspines = 4")),
                 "s.toml:11:10: cluster.spines: applies only to topology = \"fat-tree\""));
  CHECK(contains(error_of(replace(kValid, "workers = 8", "workers = 8\nnodes_per_leaf = 4")),
                 "s.toml:11:18: cluster.nodes_per_leaf: applies only to topology = \"fat-tree\""));
  CHECK(contains(error_of(replace(kValid, "workers = 8", "workers = 8\ntopology = \"ring\"\nplacement = \"packed\"")),
                 "s.toml:12:13: cluster.placement: applies only to topology = \"fat-tree\""));
}

TEST_CASE("collective: ps - servers - chunks", "[config]") {
  const auto d = gcsim::load_scenario(write_temp("d.toml", kValid));
  CHECK(d.algorithm == gcsim::Algorithm::Ring);  // defaults
  CHECK(d.collective.servers == 1);
  CHECK(d.collective.chunks == 1);

  const auto ps = gcsim::load_scenario(
      write_temp("ps.toml", kValid + "[collective]\nalgorithm = \"ps\"\nservers = 8\nchunks = 4096\n"));
  CHECK(ps.algorithm == gcsim::Algorithm::ParameterServer);
  CHECK(std::string(gcsim::to_string(ps.algorithm)) == "ps");
  CHECK(ps.collective.servers == 8);
  CHECK(ps.collective.chunks == 4096);
  const auto ps1 = gcsim::load_scenario(write_temp("ps1.toml", kValid + "[collective]\nalgorithm = \"ps\"\n"));
  CHECK(ps1.collective.servers == 1);
  const auto ring = gcsim::load_scenario(write_temp("rc.toml", kValid + "[collective]\nchunks = 8\n"));
  CHECK(ring.algorithm == gcsim::Algorithm::Ring);
  CHECK(ring.collective.chunks == 8);
}

TEST_CASE("collective: located errors", "[config][bad-input]") {
  // kValid has 17 lines; [collective] is line 18, its first key line 19.
  CHECK(contains(error_of(kValid + "[collective]\nalgorithm = \"ps\"\nservers = 0\n"),
                 "s.toml:20:11: collective.servers: must be >= 1 (got 0)"));
  CHECK(contains(error_of(kValid + "[collective]\nalgorithm = \"ps\"\nservers = 9\n"),
                 "s.toml:20:11: collective.servers: must be <= cluster.workers = 8 (got 9)"));
  CHECK(contains(error_of(kValid + "[collective]\nalgorithm = \"tree\"\nservers = 2\n"),
                 "s.toml:20:11: collective.servers: applies only to algorithm = \"ps\""));
  CHECK(contains(error_of(kValid + "[collective]\nservers = 2\n"),
                 "s.toml:19:11: collective.servers: applies only to algorithm = \"ps\""));
  for (const char* c : {"0", "4097", "-1"})
    CHECK(contains(error_of(kValid + "[collective]\nchunks = " + c + "\n"),
                   std::string("s.toml:19:10: collective.chunks: must be in [1, 4096] (got ") + c + ")"));
  CHECK(contains(error_of(kValid + "[collective]\nchunks = \"4\"\n"),
                 "collective.chunks: expected an integer, got string"));
  CHECK(contains(error_of(kValid + "[collective]\nchunk = 4\n"),
                 "s.toml:19:1: collective.chunk: unknown key, did you mean 'collective.chunks'?"));
  CHECK(contains(error_of(kValid + "[collective]\nalgorithm = \"pss\"\n"),
                 "collective.algorithm: unknown value 'pss', did you mean 'ps'?"));
}

TEST_CASE("stragglers: cv - seed - slow workers", "[config]") {
  const auto d = gcsim::load_scenario(write_temp("d.toml", kValid));
  CHECK(d.stragglers.cv == 0.0);  // defaults: none
  CHECK(d.stragglers.seed == 1);
  CHECK(d.stragglers.slow.empty());
  CHECK_FALSE(d.stragglers.any());

  const auto s = gcsim::load_scenario(write_temp(
      "st.toml", kValid + "[stragglers]\ncv = 0.2\nseed = 42\nslow = [{ rank = 3, factor = 2.0 }, { rank = 0, factor = 1 }]\n"));
  CHECK(s.stragglers.cv == 0.2);
  CHECK(s.stragglers.seed == 42);
  REQUIRE(s.stragglers.slow.size() == 2);
  CHECK(s.stragglers.slow[0].rank == 3);
  CHECK(s.stragglers.slow[0].factor == 2.0);
  CHECK(s.stragglers.slow[1].rank == 0);
  CHECK(s.stragglers.slow[1].factor == 1.0);
  CHECK(s.stragglers.any());

  // [[stragglers.slow]] works too; cv = 0 and 10 are the bounds.
  const auto t = gcsim::load_scenario(write_temp(
      "st2.toml", kValid + "[stragglers]\ncv = 10\nseed = 0\n[[stragglers.slow]]\nrank = 7\nfactor = 1.5\n"));
  CHECK(t.stragglers.cv == 10.0);
  CHECK(t.stragglers.seed == 0);
  REQUIRE(t.stragglers.slow.size() == 1);
  CHECK(t.stragglers.slow[0].rank == 7);
  CHECK(t.stragglers.slow[0].factor == 1.5);
  const auto z = gcsim::load_scenario(write_temp("st3.toml", kValid + "[stragglers]\ncv = 0\nslow = []\n"));
  CHECK_FALSE(z.stragglers.any());
}

TEST_CASE("stragglers: located errors", "[config][bad-input]") {
  const std::string h = kValid + "[stragglers]\n";  // [stragglers] is line 18
  for (const char* cv : {"-0.1", "10.5", "nan", "inf"})
    CHECK(contains(error_of(h + "cv = " + cv + "\n"),
                   std::string("s.toml:19:6: stragglers.cv: must be in [0, 10] (got ")));
  CHECK(contains(error_of(h + "cv = -0.5\n"), "stragglers.cv: must be in [0, 10] (got -0.5)"));
  CHECK(contains(error_of(h + "cv = \"x\"\n"), "stragglers.cv: expected a number, got string"));
  CHECK(contains(error_of(h + "seed = -1\n"), "s.toml:19:8: stragglers.seed: must be >= 0 (got -1)"));
  CHECK(contains(error_of(h + "seed = 1.5\n"), "stragglers.seed: expected an integer, got float"));
  CHECK(contains(error_of(h + "cvv = 0.1\n"), "s.toml:19:1: stragglers.cvv: unknown key, did you mean 'stragglers.cv'?"));

  CHECK(contains(error_of(h + "slow = [{ rank = 8, factor = 2.0 }]\n"),
                 "s.toml:19:18: stragglers.slow[0].rank: must be in [0, cluster.workers = 8) (got 8)"));
  CHECK(contains(error_of(h + "slow = [{ rank = -1, factor = 2.0 }]\n"),
                 "s.toml:19:18: stragglers.slow[0].rank: must be in [0, cluster.workers = 8) (got -1)"));
  CHECK(contains(error_of(h + "slow = [{ rank = 1, factor = 0.5 }]\n"),
                 "s.toml:19:30: stragglers.slow[0].factor: must be in [1, 1000] (got 0.5)"));
  CHECK(contains(error_of(h + "slow = [{ rank = 1, factor = inf }]\n"), "stragglers.slow[0].factor: must be in [1, 1000] (got inf)"));
  CHECK(contains(error_of(h + "slow = [{ rank = 1, factor = nan }]\n"), "stragglers.slow[0].factor: must be in [1, 1000] (got nan)"));
  CHECK(contains(error_of(h + "slow = [{ rank = 3, factor = 2.0 }, { rank = 3, factor = 3.0 }]\n"),
                 "s.toml:19:46: stragglers.slow[1].rank: rank 3 is listed twice"));
  CHECK(contains(error_of(h + "slow = [{ rank = 1 }]\n"), "stragglers.slow[0].factor: missing required key"));
  CHECK(contains(error_of(h + "slow = [{ factor = 2.0 }]\n"), "stragglers.slow[0].rank: missing required key"));
  CHECK(contains(error_of(h + "slow = [{ rank = 1, factor = 2.0, fatcor = 3 }]\n"),
                 "stragglers.slow[0].fatcor: unknown key, did you mean 'stragglers.slow[0].factor'?"));
  CHECK(contains(error_of(h + "slow = [3]\n"), "s.toml:19:9: stragglers.slow[0]: expected a table, got integer"));
  CHECK(contains(error_of(h + "slow = 3\n"), "s.toml:19:8: stragglers.slow: expected an array of tables, got integer"));
  CHECK(contains(error_of("stragglers = 1\n" + kValid), "s.toml:1:14: stragglers: expected a table, got integer"));
}

TEST_CASE("set flags reach the new keys - creating missing tables", "[config]") {
  const std::string path = write_temp("setnew.toml", kValid);
  const auto s = gcsim::load_scenario(
      path, {"stragglers.cv=0.1", "stragglers.seed=7", "stragglers.slow=[{rank=2, factor=3.0}]",
             "collective.algorithm=\"ps\"", "collective.servers=2", "collective.chunks=16",
             "cluster.topology=fat-tree", "cluster.placement=spread", "cluster.spines=8", "cluster.nodes_per_leaf=2"});
  CHECK(s.stragglers.cv == 0.1);
  CHECK(s.stragglers.seed == 7);
  REQUIRE(s.stragglers.slow.size() == 1);
  CHECK(s.stragglers.slow[0].rank == 2);
  CHECK(s.stragglers.slow[0].factor == 3.0);
  CHECK(s.algorithm == gcsim::Algorithm::ParameterServer);
  CHECK(s.collective.servers == 2);
  CHECK(s.collective.chunks == 16);
  CHECK(s.cluster.topology == gcsim::TopologyKind::FatTree);
  CHECK(s.cluster.placement == gcsim::Placement::Spread);
  CHECK(s.cluster.spines == 8);
  CHECK(s.cluster.nodes_per_leaf == 2);
  CHECK(gcsim::load_scenario(path, {"collective.algorithm=ps"}).algorithm == gcsim::Algorithm::ParameterServer);

  CHECK(contains(error_of(kValid, {"stragglers.cv=-1"}), "--set stragglers.cv=-1: stragglers.cv: must be in [0, 10]"));
  CHECK(contains(error_of(kValid, {"collective.servers=2"}),
                 "--set collective.servers=2: collective.servers: applies only to algorithm = \"ps\""));
  CHECK(contains(error_of(kValid, {"collective.algorithm=ps", "collective.servers=9"}),
                 "--set collective.servers=9: collective.servers: must be <= cluster.workers = 8 (got 9)"));
  CHECK(contains(error_of(kValid, {"collective.chunks=0"}), "--set collective.chunks=0: collective.chunks: must be in"));
  CHECK(contains(error_of(kValid, {"cluster.spines=2"}),
                 "--set cluster.spines=2: cluster.spines: applies only to topology = \"fat-tree\""));
  CHECK(contains(error_of(kValid, {"stragglers.slow=[{rank=9, factor=2.0}]"}),
                 "stragglers.slow[0].rank: must be in [0, cluster.workers = 8) (got 9)"));
  // Lowering workers below a listed slow rank is caught too.
  CHECK(contains(error_of(kValid + "[stragglers]\nslow = [{ rank = 7, factor = 2.0 }]\n", {"cluster.workers=4"}),
                 "s.toml:19:18: stragglers.slow[0].rank: must be in [0, cluster.workers = 4) (got 7)"));
}

TEST_CASE("sweep axes over the new keys", "[config][sweep]") {
  const std::string base = write_temp("base2.toml", kValid);
  const std::string sw = write_temp(
      "sw2.toml", "base = \"base2.toml\"\n[axes]\n\"stragglers.cv\" = [0.0, 0.5]\n"
                  "\"collective.algorithm|collective.servers\" = [[\"ps\", 2], [\"ps\", 99]]\n");
  const auto spec = gcsim::load_sweep(sw);
  REQUIRE(spec.point_count() == 4);
  const auto src = gcsim::read_scenario_source(base);
  const auto s2 = gcsim::build_scenario(spec.point_source(src, 2));  // cv 0.5, ps with 2 servers
  CHECK(s2.stragglers.cv == 0.5);
  CHECK(s2.algorithm == gcsim::Algorithm::ParameterServer);
  CHECK(s2.collective.servers == 2);
  CHECK_THROWS_WITH(gcsim::build_scenario(spec.point_source(src, 3)),
                    Catch::Contains("sw2.toml:4:57") && Catch::Contains("collective.servers: must be <= cluster.workers = 8 (got 99)"));
}

TEST_CASE("compression options of the newer methods are checked where they are read", "[config]") {
  const std::string base = replace(kValid, "method = \"topk\"", "method = \"qsgd\"");
  CHECK(contains(error_of(base, {"compression.bits=3"}), "bits: must be 2, 4 or 8 (got 3)"));
  CHECK(contains(error_of(base, {"compression.chunk=12"}), "chunk: must be 0 (one norm per bucket) or a multiple of 8"));
  CHECK(contains(error_of(base, {"compression.chunk=-8"}), "chunk: must be"));
  CHECK(contains(error_of(base, {"compression.rank=0"}), "rank: must be >= 1"));
  CHECK(contains(error_of(base, {"compression.start_iter=-1"}), "start_iter: must be >= 0"));
  CHECK(contains(error_of(base, {"compression.min_compression_rate=0"}), "min_compression_rate: must be in (0, 1e6]"));
  const std::string unknown = error_of(replace(kValid, "method = \"topk\"", "method = \"powersdg\""));
  CHECK(contains(unknown, "powersdg"));
  CHECK(contains(unknown, "powersgd"));  // named among the choices
  // Momentum correction is DGC's, for the sparsifiers only.
  CHECK(contains(error_of(replace(kValid, "method = \"topk\"", "method = \"fp16\""), {"compression.momentum_correction=true"}),
                 "needs a sparsifying method"));
  for (const char* m : {"fp16", "bf16", "powersgd", "signsgd", "qsgd"}) {
    INFO(m);
    CHECK(error_of(replace(kValid, "method = \"topk\"", std::string("method = \"") + m + "\"")).empty());
  }
}
