// Tests for the model zoo (models/zoo.h) and the layer builders
// (models/layer_builders.h). Expected figures are torchvision / Hugging Face
// parameter counts and hand-computed FLOPs, typed in here on purpose.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "models/layer_builders.h"
#include "models/zoo.h"

using gcsim::ActShape;
using gcsim::Layer;
using gcsim::LayerBuilder;
using gcsim::ModelSpec;

namespace {

const Layer& layer_named(const ModelSpec& m, const std::string& name) {
  for (const auto& l : m.layers)
    if (l.name == name) return l;
  FAIL("no layer named " << name << " in " << m.name);
  throw std::logic_error("unreachable");
}

std::map<std::string, int> kinds(const ModelSpec& m) {
  std::map<std::string, int> k;
  for (const auto& l : m.layers) ++k[l.kind];
  return k;
}

int index_of(const ModelSpec& m, const std::string& name) {
  for (std::size_t i = 0; i < m.layers.size(); ++i)
    if (m.layers[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace

TEST_CASE("zoo lists its models in order and finds them by exact name", "[models]") {
  const std::vector<std::string> expected = {"simplecnn", "resnet18", "resnet50", "vgg16",
                                             "gpt2-small"};
  REQUIRE(gcsim::zoo_names() == expected);
  for (const auto& name : gcsim::zoo_names()) {
    const auto m = gcsim::find_model(name);
    REQUIRE(m.has_value());
    CHECK(m->name == name);
    CHECK_FALSE(m->sample_unit.empty());
    CHECK_FALSE(m->layers.empty());
  }
  CHECK_FALSE(gcsim::find_model("resnet101").has_value());
  CHECK_FALSE(gcsim::find_model("ResNet50").has_value());
  CHECK_FALSE(gcsim::find_model("").has_value());
  CHECK_FALSE(gcsim::find_model("gpt2").has_value());
}

TEST_CASE("zoo totals match the reference implementations", "[models]") {
  CHECK(gcsim::make_simplecnn().total_params() == 202'738);
  CHECK(gcsim::make_resnet18().total_params() == 11'689'512);
  CHECK(gcsim::make_resnet50().total_params() == 25'557'032);
  CHECK(gcsim::make_vgg16().total_params() == 138'357'544);
  CHECK(gcsim::make_gpt2_small().total_params() == 124'439'808);
}

TEST_CASE("layer names are unique - non-empty and every layer has a kind", "[models]") {
  for (const auto& name : gcsim::zoo_names()) {
    const ModelSpec m = *gcsim::find_model(name);
    std::set<std::string> seen;
    for (const auto& l : m.layers) {
      INFO(name << " layer " << l.name);
      CHECK_FALSE(l.name.empty());
      CHECK_FALSE(l.kind.empty());
      CHECK(l.params >= 0);
      CHECK(l.forward_flops >= 0.0);
      CHECK(seen.insert(l.name).second);
    }
  }
}

TEST_CASE("simplecnn architecture", "[models][simplecnn]") {
  const ModelSpec m = gcsim::make_simplecnn();
  CHECK(m.sample_unit == "image 1x28x28");
  REQUIRE(m.layers.size() == 4);
  CHECK(m.layers[0].name == "conv1");
  CHECK(m.layers[1].name == "conv2");
  CHECK(m.layers[2].name == "fc1");
  CHECK(m.layers[3].name == "fc2");
  CHECK(m.layers[0].params == 1 * 16 * 25 + 16);
  CHECK(m.layers[1].params == 16 * 32 * 25 + 32);
  CHECK(m.layers[2].params == 1568 * 120 + 120);
  CHECK(m.layers[3].params == 120 * 10 + 10);
  // conv1 at 28x28, conv2 at 14x14 (after pool), fc on 32x7x7.
  CHECK(m.layers[0].forward_flops == 2.0 * 25 * 16 * 28 * 28 + 16 * 28 * 28);
  CHECK(m.layers[1].forward_flops == 2.0 * 16 * 25 * 32 * 14 * 14 + 32 * 14 * 14);
  CHECK(m.layers[2].forward_flops == 2.0 * 1568 * 120 + 120);
  CHECK(m.layers[3].forward_flops == 2.0 * 120 * 10 + 10);
  CHECK(m.forward_flops() == 6'042'466.0);
}

TEST_CASE("resnet18 structure", "[models][resnet]") {
  const ModelSpec m = gcsim::make_resnet18();
  CHECK(m.sample_unit == "image 3x224x224");
  const auto k = kinds(m);
  CHECK(k.at("conv") == 20);
  CHECK(k.at("bn") == 20);
  CHECK(k.at("linear") == 1);
  CHECK(m.layers.size() == 41);
  CHECK(m.layers.front().name == "conv1");
  CHECK(m.layers.back().name == "fc");

  CHECK(layer_named(m, "conv1").params == 9408);
  CHECK(layer_named(m, "bn1").params == 128);
  CHECK(layer_named(m, "layer1.0.conv1").params == 64 * 64 * 9);
  CHECK(layer_named(m, "layer4.1.conv2").params == 2'359'296);
  CHECK(layer_named(m, "layer2.0.downsample.0").params == 64 * 128);
  CHECK(layer_named(m, "layer2.0.downsample.1").params == 256);
  CHECK(layer_named(m, "fc").params == 513'000);
  // BasicBlock: layer1 has no downsample (64 -> 64, stride 1).
  CHECK(index_of(m, "layer1.0.downsample.0") == -1);
  // conv1: 7x7x3x64 at 112x112.
  CHECK(layer_named(m, "conv1").forward_flops == 2.0 * 147 * 64 * 112 * 112);
  // layer4 runs at 7x7.
  CHECK(layer_named(m, "layer4.1.conv2").forward_flops == 2.0 * 2'359'296 * 7 * 7);

  CHECK(m.forward_flops() > 3.4e9);
  CHECK(m.forward_flops() < 3.8e9);
}

TEST_CASE("resnet50 structure", "[models][resnet]") {
  const ModelSpec m = gcsim::make_resnet50();
  const auto k = kinds(m);
  CHECK(k.at("conv") == 53);
  CHECK(k.at("bn") == 53);
  CHECK(k.at("linear") == 1);
  CHECK(m.layers.size() == 107);

  CHECK(layer_named(m, "conv1").params == 9408);
  CHECK(layer_named(m, "fc").params == 2'049'000);
  CHECK(layer_named(m, "layer1.0.downsample.0").params == 16'384);
  CHECK(layer_named(m, "layer1.0.downsample.1").params == 512);
  CHECK(layer_named(m, "layer4.2.conv3").params == 512 * 2048);
  CHECK(layer_named(m, "layer4.2.bn3").params == 4096);
  CHECK(index_of(m, "layer1.1.downsample.0") == -1);
  CHECK(index_of(m, "layer4.0.downsample.0") >= 0);

  // v1.5: the stride sits on the 3x3 conv. layer2.0.conv1 still runs at
  // 56x56, conv2 at 28x28.
  CHECK(layer_named(m, "layer2.0.conv1").forward_flops == 2.0 * 256 * 128 * 56 * 56);
  CHECK(layer_named(m, "layer2.0.conv2").forward_flops == 2.0 * 128 * 9 * 128 * 28 * 28);
  CHECK(layer_named(m, "layer2.0.downsample.0").forward_flops == 2.0 * 256 * 512 * 28 * 28);

  // Forward order: block main path, then its shortcut, then the next block.
  CHECK(index_of(m, "layer1.0.bn3") < index_of(m, "layer1.0.downsample.0"));
  CHECK(index_of(m, "layer1.0.downsample.1") < index_of(m, "layer1.1.conv1"));
  CHECK(index_of(m, "layer3.5.bn3") < index_of(m, "layer4.0.conv1"));

  CHECK(m.forward_flops() > 7.5e9);
  CHECK(m.forward_flops() < 8.5e9);
}

TEST_CASE("vgg16 structure", "[models][vgg]") {
  const ModelSpec m = gcsim::make_vgg16();
  const auto k = kinds(m);
  CHECK(k.at("conv") == 13);
  CHECK(k.at("linear") == 3);
  REQUIRE(m.layers.size() == 16);
  const std::vector<std::string> conv_names = {
      "features.0",  "features.2",  "features.5",  "features.7",  "features.10",
      "features.12", "features.14", "features.17", "features.19", "features.21",
      "features.24", "features.26", "features.28"};
  for (std::size_t i = 0; i < conv_names.size(); ++i) CHECK(m.layers[i].name == conv_names[i]);
  CHECK(m.layers[13].name == "classifier.0");
  CHECK(m.layers[14].name == "classifier.3");
  CHECK(m.layers[15].name == "classifier.6");

  CHECK(layer_named(m, "features.0").params == 1792);
  CHECK(layer_named(m, "features.28").params == 512 * 512 * 9 + 512);
  CHECK(layer_named(m, "classifier.0").params == 102'764'544);
  CHECK(layer_named(m, "classifier.3").params == 16'781'312);
  CHECK(layer_named(m, "classifier.6").params == 4'097'000);
  CHECK(layer_named(m, "features.28").forward_flops ==
        2.0 * 512 * 9 * 512 * 14 * 14 + 512 * 14 * 14);

  CHECK(m.forward_flops() > 30.0e9);
  CHECK(m.forward_flops() < 32.0e9);
}

TEST_CASE("gpt2-small structure", "[models][gpt2]") {
  const ModelSpec m = gcsim::make_gpt2_small();
  CHECK(m.sample_unit == "sequence of 1024 tokens");
  const auto k = kinds(m);
  CHECK(k.at("embedding") == 2);
  CHECK(k.at("layernorm") == 25);
  CHECK(k.at("linear") == 48);
  CHECK(k.at("attention") == 12);
  CHECK(k.at("lm_head") == 1);
  CHECK(m.layers.size() == 88);

  CHECK(m.layers[0].name == "transformer.wte");
  CHECK(m.layers[1].name == "transformer.wpe");
  CHECK(m.layers[2].name == "h.0.ln_1");
  CHECK(m.layers[3].name == "h.0.attn.c_attn");
  CHECK(m.layers[4].name == "h.0.attn.core");
  CHECK(m.layers[5].name == "h.0.attn.c_proj");
  CHECK(m.layers[6].name == "h.0.ln_2");
  CHECK(m.layers[7].name == "h.0.mlp.c_fc");
  CHECK(m.layers[8].name == "h.0.mlp.c_proj");
  CHECK(m.layers[86].name == "ln_f");
  CHECK(m.layers[87].name == "lm_head");

  CHECK(layer_named(m, "transformer.wte").params == 38'597'376);
  CHECK(layer_named(m, "transformer.wpe").params == 786'432);
  CHECK(layer_named(m, "h.0.attn.c_attn").params == 1'771'776);
  CHECK(layer_named(m, "h.11.attn.c_proj").params == 590'592);
  CHECK(layer_named(m, "h.5.mlp.c_fc").params == 2'362'368);
  CHECK(layer_named(m, "h.5.mlp.c_proj").params == 2'360'064);
  CHECK(layer_named(m, "h.0.ln_1").params == 1536);
  CHECK(layer_named(m, "ln_f").params == 1536);
  CHECK(layer_named(m, "lm_head").params == 0);
  CHECK(layer_named(m, "h.3.attn.core").params == 0);

  // FLOPs per 1024-token sequence.
  CHECK(layer_named(m, "transformer.wte").forward_flops == 0.0);
  CHECK(layer_named(m, "transformer.wpe").forward_flops == 0.0);
  CHECK(layer_named(m, "h.0.attn.c_attn").forward_flops == (2.0 * 768 * 2304 + 2304) * 1024);
  CHECK(layer_named(m, "h.0.attn.core").forward_flops == 4.0 * 1024 * 1024 * 768);
  CHECK(layer_named(m, "lm_head").forward_flops == 2.0 * 768 * 50257 * 1024);
  CHECK(layer_named(m, "ln_f").forward_flops == 2.0 * 768 * 1024);

  // 2 * N_nonembedding * 1024 + attention + lm_head, plus the small bias and
  // layernorm terms.
  const double n_nonembedding = 85'056'000.0;
  const double approx = 2.0 * n_nonembedding * 1024 + 12 * 4.0 * 1024 * 1024 * 768 +
                        2.0 * 768 * 50257 * 1024;
  CHECK(m.forward_flops() == Approx(approx).epsilon(0.001));
  CHECK(m.forward_flops() > 2.9e11);
  CHECK(m.forward_flops() < 2.95e11);
}

TEST_CASE("layer builder derives shapes - params and FLOPs", "[models][builder]") {
  ModelSpec spec;
  LayerBuilder b(spec, ActShape{3, 32, 32});

  const Layer& c = b.conv2d("c", 8, {.kernel = 3, .stride = 2, .padding = 1, .bias = true});
  CHECK(c.kind == "conv");
  CHECK(c.params == 8 * 3 * 9 + 8);
  CHECK(c.forward_flops == 2.0 * 3 * 9 * 8 * 16 * 16 + 8 * 16 * 16);
  CHECK(b.shape() == ActShape{8, 16, 16});

  const Layer& g = b.conv2d("g", 16, {.kernel = 3, .padding = 1, .groups = 4});
  CHECK(g.params == 16 * 2 * 9);
  CHECK(g.forward_flops == 2.0 * 2 * 9 * 16 * 16 * 16);

  const Layer& bn = b.batchnorm2d("bn");
  CHECK(bn.kind == "bn");
  CHECK(bn.params == 32);
  CHECK(bn.forward_flops == 2.0 * 16 * 16 * 16);

  b.max_pool2d(3, 2, 1);
  CHECK(b.shape() == ActShape{16, 8, 8});
  b.avg_pool2d(2, 2);
  CHECK(b.shape() == ActShape{16, 4, 4});
  b.adaptive_avg_pool2d(1, 1);
  b.flatten();
  CHECK(b.shape() == ActShape{16, 1, 1});

  const Layer& fc = b.linear("fc", 10, false);
  CHECK(fc.params == 160);
  CHECK(fc.forward_flops == 320.0);
  CHECK(spec.layers.size() == 4);  // pools and flatten add no layers

  // Per-position linear on a token sequence.
  ModelSpec seq;
  LayerBuilder t(seq, ActShape{1, 1, 5});
  CHECK(t.embedding("emb", 100, 4).params == 400);
  CHECK(t.shape() == ActShape{4, 1, 5});
  CHECK(t.layernorm("ln").forward_flops == 2.0 * 4 * 5);
  CHECK(t.linear("qkv", 12, true).forward_flops == (2.0 * 4 * 12 + 12) * 5);
  CHECK(t.attention_core("core", 4).forward_flops == 4.0 * 5 * 5 * 4);
  CHECK(t.shape() == ActShape{4, 1, 5});
  const Layer& head = t.tied_linear("head", 100, "lm_head");
  CHECK(head.params == 0);
  CHECK(head.forward_flops == 2.0 * 4 * 100 * 5);
}

TEST_CASE("layer builder rejects shapes that do not fit", "[models][builder]") {
  ModelSpec spec;
  LayerBuilder b(spec, ActShape{6, 4, 4});
  CHECK_THROWS_AS(b.conv2d("big", 8, {.kernel = 7}), std::invalid_argument);
  CHECK_THROWS_AS(b.conv2d("groups", 8, {.kernel = 1, .groups = 4}), std::invalid_argument);
  CHECK_THROWS_AS(b.conv2d("stride0", 8, {.kernel = 1, .stride = 0}), std::invalid_argument);
  CHECK_THROWS_AS(b.max_pool2d(5, 1), std::invalid_argument);
  CHECK_THROWS_AS(b.attention_core("core", 4), std::invalid_argument);
  CHECK_THROWS_AS(b.linear("", 4, true), std::invalid_argument);
  CHECK_THROWS_AS(LayerBuilder(spec, ActShape{0, 1, 1}), std::invalid_argument);
  CHECK(spec.layers.empty());
  CHECK(b.shape() == ActShape{6, 4, 4});
}
