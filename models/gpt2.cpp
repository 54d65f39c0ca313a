// GPT-2 small in the Hugging Face layout (GPT2LMHeadModel), tied embeddings.
//
//   vocab 50257, n_positions 1024, d_model 768, 12 blocks, 12 heads, MLP 3072.
//   transformer.wte   Embedding(50257, 768)                  38,597,376
//   transformer.wpe   Embedding(1024, 768)                      786,432
//   per block N = 0..11, forward order:
//     h.N.ln_1        LayerNorm(768), weight + bias               1,536
//     h.N.attn.c_attn Conv1D 768 -> 2304 (+bias), fused Q,K,V  1,771,776
//     h.N.attn.core   scores + weighted sum, 0 params (see below)
//     h.N.attn.c_proj Conv1D 768 -> 768 (+bias)                  590,592
//     h.N.ln_2        LayerNorm(768)                              1,536
//     h.N.mlp.c_fc    Conv1D 768 -> 3072 (+bias)              2,362,368
//     h.N.mlp.c_proj  Conv1D 3072 -> 768 (+bias)              2,360,064
//   ln_f              LayerNorm(768)                              1,536
//   lm_head           768 -> 50257, no bias, weight tied to transformer.wte:
//                     0 params, but its logits FLOPs are counted.
//   total 124,439,808 params.
//
// Naming: the names given in the project brief are used as-is: the embeddings
// carry the "transformer." prefix of GPT2LMHeadModel, the blocks and ln_f use
// GPT2Model's un-prefixed names ("h.0.attn.c_attn", "ln_f"), and "lm_head".
//
// Attention: the score (Q.K^T) and weighted-sum (A.V) matmuls are put on a
// separate 0-parameter layer "h.N.attn.core" (kind "attention") between
// c_attn and c_proj, 2*seq*seq*d FLOPs each, i.e. 4*1024*1024*768 per block,
// counted over the full seq x seq matrix (the causal mask is not exploited;
// softmax, scaling and masking are not counted).
//
// One sample = one sequence of 1024 tokens. FLOPs per sample (2 FLOPs/MAC,
// biases counted, layernorm = 2 FLOPs per element, embedding lookups, GELU and
// residual adds not counted):
//   linears (c_attn, c_proj, c_fc, c_proj)  174,031,110,144
//   attention cores                         38,654,705,664
//   lm_head (2 * 768 * 50257 per token)     79,047,426,048
//   layernorms                              39,321,600
//   total                                   291,772,563,456 (~291.8 GFLOPs,
//                                           ~285 MFLOPs per token)
// For reference 2 * N_nonembedding * 1024 = 2 * 85,056,000 * 1024
// = 174,194,688,000 (N_nonembedding counts the layernorms' parameters too).
// 88 layers: 2 embeddings + 12 * 7 + ln_f + lm_head.
#include <stdexcept>
#include <string>

#include "models/layer_builders.h"
#include "models/zoo.h"

namespace gcsim {

ModelSpec make_gpt2_small() {
  constexpr std::int64_t kVocab = 50257;
  constexpr std::int64_t kPositions = 1024;  // n_positions
  constexpr std::int64_t kSeq = 1024;        // tokens per sample
  constexpr std::int64_t kDModel = 768;
  constexpr std::int64_t kLayers = 12;
  constexpr std::int64_t kMlp = 4 * kDModel;
  static_assert(kSeq <= kPositions, "sequence longer than the position table");

  ModelSpec spec;
  spec.name = "gpt2-small";
  spec.sample_unit = "sequence of 1024 tokens";

  // One token id at each of kSeq positions.
  LayerBuilder b(spec, ActShape{1, 1, kSeq});
  b.embedding("transformer.wte", kVocab, kDModel);
  b.embedding("transformer.wpe", kPositions, kDModel);  // added to wte: not counted

  for (std::int64_t n = 0; n < kLayers; ++n) {
    const std::string h = "h." + std::to_string(n) + ".";
    b.layernorm(h + "ln_1");
    b.linear(h + "attn.c_attn", 3 * kDModel, /*bias=*/true);
    b.attention_core(h + "attn.core", kDModel);
    b.linear(h + "attn.c_proj", kDModel, /*bias=*/true);
    b.layernorm(h + "ln_2");  // after the residual add (not counted)
    b.linear(h + "mlp.c_fc", kMlp, /*bias=*/true);
    b.linear(h + "mlp.c_proj", kDModel, /*bias=*/true);
  }

  b.layernorm("ln_f");
  b.tied_linear("lm_head", kVocab, "lm_head");
  return spec;
}

}  // namespace gcsim
