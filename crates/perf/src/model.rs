//! Transformer shapes, parameter counts and FLOPs, precomputed once per model.
//!
//! Parameter counts follow the matrices of the architecture (biases and position embeddings
//! ignored: < 0.5 % for every catalogue model); they are tested against each catalogue entry's
//! published `params` / `active_params`.

use serde::Serialize;
use spec::ModelArch;

/// Multi-head latent attention dimensions (DeepSeek-V2/V3, arXiv 2405.04434 §2.1).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct MlaDims {
    pub q_lora_rank: f64,
    pub kv_lora_rank: f64,
    pub qk_nope_head_dim: f64,
    pub qk_rope_head_dim: f64,
    pub v_head_dim: f64,
}

/// Mixture-of-experts dimensions.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct MoeDims {
    pub routed_experts: u32,
    pub shared_experts: u32,
    pub top_k: u32,
    pub expert_ffn: f64,
    pub dense_layers: u32,
}

/// A model with its derived constants. Built once; evaluations only read it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Model {
    pub name: String,
    pub layers: u32,
    pub hidden: f64,
    pub heads: u32,
    pub kv_heads: u32,
    pub head_dim: f64,
    pub ffn: f64,
    pub vocab: f64,
    pub gated_mlp: bool,
    pub tied_embeddings: bool,
    pub mla: Option<MlaDims>,
    pub moe: Option<MoeDims>,
    /// Published total parameters (catalogue).
    pub published_params: f64,
    /// Published active parameters per token (catalogue; total for dense models).
    pub published_active_params: f64,

    // Derived (per layer unless said otherwise).
    /// Attention matrices of one layer.
    pub attn_params: f64,
    /// Dense FFN matrices of one layer.
    pub dense_mlp_params: f64,
    /// One expert's matrices.
    pub expert_params: f64,
    /// Router matrix of one MoE layer.
    pub router_params: f64,
    /// Layer norms of one layer.
    pub norm_params: f64,
    /// Input embedding plus output layer (once if tied).
    pub embedding_params: f64,
    /// Dense and MoE layer counts.
    pub dense_layer_count: u32,
    pub moe_layer_count: u32,
    /// Query-key and value head dimensions used by the attention core.
    pub qk_dim: f64,
    pub v_dim: f64,
    pub params_total: f64,
    pub params_active: f64,
}

impl Model {
    pub fn from_arch(a: &ModelArch) -> Model {
        let h = a.hidden as f64;
        let heads = a.heads as f64;
        let kv = a.kv_heads() as f64;
        let dh = a.head_dim() as f64;
        let mats = if a.gated_mlp { 3.0 } else { 2.0 };
        let mla = a.mla.as_ref().map(|m| MlaDims {
            q_lora_rank: m.q_lora_rank as f64,
            kv_lora_rank: m.kv_lora_rank as f64,
            qk_nope_head_dim: m.qk_nope_head_dim as f64,
            qk_rope_head_dim: m.qk_rope_head_dim as f64,
            v_head_dim: m.v_head_dim as f64,
        });
        let moe = a.moe.as_ref().map(|m| MoeDims {
            routed_experts: m.routed_experts,
            shared_experts: m.shared_experts,
            top_k: m.top_k,
            expert_ffn: m.expert_ffn as f64,
            dense_layers: m.dense_layers.min(a.layers),
        });
        let (attn_params, qk_dim, v_dim) = match &mla {
            // DeepSeek-V2 eqs. 1-11: q down/up projection, joint kv down projection (+ decoupled
            // rope key), kv up projection to per-head nope keys and values, output projection.
            Some(m) => {
                let qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
                let q = if m.q_lora_rank > 0.0 {
                    h * m.q_lora_rank + m.q_lora_rank * heads * qk + m.q_lora_rank
                } else {
                    h * heads * qk
                };
                let kv = h * (m.kv_lora_rank + m.qk_rope_head_dim)
                    + m.kv_lora_rank * heads * (m.qk_nope_head_dim + m.v_head_dim)
                    + m.kv_lora_rank;
                let o = heads * m.v_head_dim * h;
                (q + kv + o, qk, m.v_head_dim)
            }
            // Q, K, V and output projections; GQA shares K and V across heads/kv query heads.
            None => (2.0 * h * heads * dh + 2.0 * h * kv * dh, dh, dh),
        };
        let dense_mlp_params = mats * h * a.ffn as f64;
        let (expert_params, router_params) = match &moe {
            Some(m) => (mats * h * m.expert_ffn, h * m.routed_experts as f64),
            None => (0.0, 0.0),
        };
        let norm_params = 2.0 * h;
        let vocab = a.vocab as f64;
        let embedding_params = if a.tied_embeddings {
            vocab * h
        } else {
            2.0 * vocab * h
        };
        let (dense_layer_count, moe_layer_count) = match &moe {
            Some(m) => (m.dense_layers, a.layers - m.dense_layers),
            None => (a.layers, 0),
        };
        let moe_total = moe.map_or(0.0, |m| {
            (m.routed_experts + m.shared_experts) as f64 * expert_params + router_params
        });
        let moe_active = moe.map_or(0.0, |m| {
            (m.top_k + m.shared_experts) as f64 * expert_params + router_params
        });
        let dl = dense_layer_count as f64;
        let ml = moe_layer_count as f64;
        let params_total = dl * (attn_params + dense_mlp_params + norm_params)
            + ml * (attn_params + moe_total + norm_params)
            + embedding_params
            + h;
        let params_active = dl * (attn_params + dense_mlp_params + norm_params)
            + ml * (attn_params + moe_active + norm_params)
            + embedding_params
            + h;
        let published_params = a.params.count();
        let published_active_params = a
            .active_params
            .map(|c| c.count())
            .unwrap_or(published_params);
        Model {
            name: a.name.clone(),
            layers: a.layers,
            hidden: h,
            heads: a.heads,
            kv_heads: a.kv_heads(),
            head_dim: dh,
            ffn: a.ffn as f64,
            vocab,
            gated_mlp: a.gated_mlp,
            tied_embeddings: a.tied_embeddings,
            mla,
            moe,
            published_params,
            published_active_params,
            attn_params,
            dense_mlp_params,
            expert_params,
            router_params,
            norm_params,
            embedding_params,
            dense_layer_count,
            moe_layer_count,
            qk_dim,
            v_dim,
            params_total,
            params_active,
        }
    }

    /// Forward FLOPs per token of the attention core (QKᵀ and AV) of one layer at sequence length
    /// `seq`, counted without causal masking: 2·s·heads·(d_qk + d_v). For MHA this is 4·s·h, the
    /// attention term of Narayanan et al. 2021 eq. 3 / Korthikanti et al. 2022 §6 (72·B·s·l·h²·(1 +
    /// s/6h) over fwd+bwd).
    pub fn attn_core_flops_per_token(&self, seq: f64) -> f64 {
        2.0 * seq * self.heads as f64 * (self.qk_dim + self.v_dim)
    }

    /// Model FLOPs per trained token (forward + backward = 3 × forward, no recompute), attention
    /// included without causal masking and logits included: the "model FLOPs" of MFU as defined by
    /// Korthikanti et al. 2022 (arXiv 2205.05198) §6 and Chowdhery et al. 2022 (PaLM) App. B.
    pub fn model_flops_per_token(&self, seq: f64) -> f64 {
        let matmul_active = self.params_active
            - self.embedding_params
            - self.hidden
            - self.layers as f64 * self.norm_params;
        let fwd = 2.0 * matmul_active
            + self.layers as f64 * self.attn_core_flops_per_token(seq)
            + 2.0 * self.hidden * self.vocab;
        3.0 * fwd
    }

    /// 6·N FLOPs per token with N the active parameters (Kaplan et al. 2020): the convention of
    /// rows that quote "6N".
    pub fn flops_6n_per_token(&self) -> f64 {
        6.0 * self.params_active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_model_matches_its_published_counts() {
        let cat = spec::Catalog::embedded();
        let names: Vec<String> = cat.names("model").iter().map(|s| s.to_string()).collect();
        assert!(names.len() >= 8);
        for n in names {
            let a: ModelArch = cat.get(&n).unwrap();
            let m = Model::from_arch(&a);
            let e = (m.params_total / m.published_params - 1.0).abs();
            assert!(
                e <= 0.03,
                "{n}: {:.4e} vs {:.4e}",
                m.params_total,
                m.published_params
            );
            let ea = (m.params_active / m.published_active_params - 1.0).abs();
            assert!(
                ea <= 0.03,
                "{n} active: {:.4e} vs {:.4e}",
                m.params_active,
                m.published_active_params
            );
        }
    }

    #[test]
    fn mha_attention_flops_match_the_megatron_formula() {
        // 72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h)) per step (Korthikanti 2022 §6, fwd+bwd).
        let cat = spec::Catalog::embedded();
        let a: ModelArch = cat.get("megatron-1t").unwrap();
        let m = Model::from_arch(&a);
        let (s, l, h, v) = (2048.0, 128.0, 25600.0, 51200.0);
        let reference = 72.0 * s * l * h * h * (1.0 + s / (6.0 * h) + v / (12.0 * l * h)) / s;
        let ours = m.model_flops_per_token(s);
        assert!(
            (ours / reference - 1.0).abs() < 0.002,
            "{ours} vs {reference}"
        );
    }
}
