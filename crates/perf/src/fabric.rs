//! The network as a hierarchy of levels and α–β collective costs on it.
//!
//! A level is a domain of GPUs that talk at one bandwidth: the scale-up domain (NVLink, NVL72),
//! then the scale-out Clos tiers, later campus and WAN levels (appended by the multi-site work).
//! `size` is the number of GPUs in one domain of that level, so sizes grow outwards and the last
//! level holds the whole job. Ranks are numbered so that consecutive ranks fill the innermost
//! domains first; a group of `g` ranks at rank distance `stride` therefore has
//! `clamp(size / stride, 1, g)` members inside one domain of each level.
//!
//! Costs (Thakur, Rabenseifner & Gropp 2005, as tabulated in `calibration/multisite.md` §5.1):
//! ring reduce-scatter / all-gather of `n` bytes over `p` ranks move `(p−1)/p · n` per rank, an
//! all-reduce twice that; NCCL-tests' bus-bandwidth convention is the same (nccl-tests
//! `doc/PERFORMANCE.md`, P). Hierarchically (RS inside the inner domain, then across on the shard,
//! then AG back: the NeMo / NCCL pattern, multisite.md §5.2) each level carries the shard left by
//! the levels below it, on its own links, in sequence. Latency per level: `⌈log₂ r⌉` steps of α
//! per phase, as NCCL's double binary trees and PAT give for large groups (NVIDIA NCCL 2.4 blog, S).

use serde::{Deserialize, Serialize};

/// One level of the network hierarchy.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Level {
    pub name: String,
    /// GPUs in one domain of this level (cumulative: includes the levels inside it).
    pub size: u64,
    /// Bandwidth per GPU leaving its domain of the level below, one direction, bytes/s.
    pub bandwidth_bytes_per_s: f64,
    /// One-way latency of a small message across this level, seconds.
    pub latency_s: f64,
    /// Achieved fraction of `bandwidth_bytes_per_s` for large collectives.
    pub efficiency: f64,
}

/// The hierarchy, innermost level first.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Fabric {
    pub levels: Vec<Level>,
}

/// Measured NVLink efficiency: NCCL all-reduce on HGX-H100 reaches 741.34 GB/s of the 900 GB/s
/// bidirectional NVLink 4 (ASTRA-sim validation page, `calibration/perf.md` §1.1, P): 0.824.
pub const SCALE_UP_EFFICIENCY: f64 = 0.824;

/// Scale-out efficiency: NCCL bus bandwidth over 400G InfiniBand/RoCE reaches ~90 % of line
/// rate on large messages (Calculon's a100_80g system file uses 0.9 for its InfiniBand network,
/// `calibration/perf.md` §1.3, S; A for other fabrics).
pub const SCALE_OUT_EFFICIENCY: f64 = 0.9;

/// How the ranks of one communicator sit on the hierarchy.
#[derive(Clone, Copy, Debug)]
pub struct Group {
    pub size: u32,
    /// Rank distance between consecutive members.
    pub stride: u64,
}

impl Fabric {
    /// Innermost level first, sizes clamped to `gpus` and made non-decreasing; empty fabrics
    /// become a single ideal level so that costs stay finite.
    pub fn normalised(mut self, gpus: u64) -> Fabric {
        let mut last = 1u64;
        for l in &mut self.levels {
            l.size = l.size.clamp(last, gpus.max(1));
            last = l.size;
        }
        if let Some(l) = self.levels.last_mut() {
            l.size = gpus.max(l.size);
        }
        self.levels
            .retain(|l| l.bandwidth_bytes_per_s > 0.0 && l.efficiency > 0.0);
        self
    }

    /// Members of a group inside one domain of each level.
    #[inline]
    fn members(&self, i: usize, g: Group) -> f64 {
        let per = (self.levels[i].size / g.stride.max(1)).max(1);
        per.min(g.size as u64) as f64
    }

    /// Hierarchical reduce-scatter (or all-gather) of `bytes` (the full buffer per rank).
    pub fn reduce_scatter_s(&self, bytes: f64, g: Group) -> f64 {
        if g.size <= 1 || bytes <= 0.0 {
            return 0.0;
        }
        let mut t = 0.0;
        let mut below = 1.0;
        for i in 0..self.levels.len() {
            let n = self.members(i, g);
            let r = n / below;
            if r > 1.0 {
                let l = &self.levels[i];
                let shard = bytes / below;
                t += (r - 1.0) / r * shard / (l.bandwidth_bytes_per_s * l.efficiency)
                    + r.log2().ceil() * l.latency_s;
            }
            below = n;
            if n >= g.size as f64 {
                break;
            }
        }
        t
    }

    /// All-gather costs the same as reduce-scatter (reduction arithmetic is hidden in the copy).
    pub fn all_gather_s(&self, bytes: f64, g: Group) -> f64 {
        self.reduce_scatter_s(bytes, g)
    }

    /// All-reduce = reduce-scatter then all-gather.
    pub fn all_reduce_s(&self, bytes: f64, g: Group) -> f64 {
        2.0 * self.reduce_scatter_s(bytes, g)
    }

    /// All-to-all where every rank sends `bytes` in total, spread evenly over the group. Traffic
    /// leaving each domain uses that level's per-GPU bandwidth; the levels work concurrently, so
    /// the slowest one sets the time, plus the outermost latency.
    pub fn all_to_all_s(&self, bytes: f64, g: Group) -> f64 {
        if g.size <= 1 || bytes <= 0.0 {
            return 0.0;
        }
        let gs = g.size as f64;
        let mut worst: f64 = 0.0;
        let mut below = 1.0;
        let mut lat = 0.0;
        for i in 0..self.levels.len() {
            let n = self.members(i, g);
            if n > below {
                let l = &self.levels[i];
                // bytes this GPU sends outside its domain one level down
                let out = bytes * (gs - below) / gs;
                worst = worst.max(out / (l.bandwidth_bytes_per_s * l.efficiency));
                lat = l.latency_s;
            }
            below = n;
            if n >= gs {
                break;
            }
        }
        worst + lat
    }

    /// Point-to-point send of `bytes` to a rank `stride` away.
    pub fn p2p_s(&self, bytes: f64, stride: u64) -> f64 {
        if bytes <= 0.0 {
            return 0.0;
        }
        for l in &self.levels {
            if l.size > stride {
                return l.latency_s + bytes / (l.bandwidth_bytes_per_s * l.efficiency);
            }
        }
        match self.levels.last() {
            Some(l) => l.latency_s + bytes / (l.bandwidth_bytes_per_s * l.efficiency),
            None => 0.0,
        }
    }
}

/// Levels of one hall: its scale-up domain, then the tiers of its rail-optimised folded Clos.
///
/// A non-blocking `T`-tier folded Clos of radix-`R` switches reaches `(R/2)^i` endpoints below a
/// tier-`i` switch; rail optimisation connects the `gpus_per_node` GPUs of a node to different
/// leaves, so one rail group spans `(R/2)^i × gpus_per_node` GPUs (NVIDIA DGX SuperPOD reference
/// architecture, P). Oversubscription divides the bandwidth above the leaf tier. Latency of tier
/// `i`: `2i − 1` switch hops.
pub fn hall_levels(h: &spec::scenario::Hall) -> Vec<Level> {
    let gpn = h.system.gpus_per_node.max(1) as u64;
    let domain = h.system.scale_up_domain.max(1) as u64;
    let mut v = vec![Level {
        name: format!("scale-up ({})", h.scale_up.name),
        size: domain,
        // vendors add both directions; collectives use one direction per link
        bandwidth_bytes_per_s: h.scale_up.bandwidth.bytes_per_s() / 2.0,
        latency_s: h.scale_up.latency.s(),
        efficiency: SCALE_UP_EFFICIENCY,
    }];
    let f = &h.fabric;
    let half = (f.radix.max(2) / 2) as u64;
    let link = h
        .system
        .nic_bandwidth
        .bytes_per_s()
        .min(f.link_rate.bytes_per_s());
    let mut below = half.saturating_mul(gpn);
    for tier in 1..=f.tiers.max(1) {
        let last = tier == f.tiers.max(1);
        let size = if last { u64::MAX } else { below };
        let bw = if tier >= 2 {
            link / f.oversubscription.max(1.0)
        } else {
            link
        };
        v.push(Level {
            name: format!("{} tier {tier}", f.name),
            size,
            bandwidth_bytes_per_s: bw,
            latency_s: (2 * tier - 1) as f64 * f.hop_latency.s(),
            efficiency: SCALE_OUT_EFFICIENCY,
        });
        below = below.saturating_mul(half);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_level() -> Fabric {
        Fabric {
            levels: vec![
                Level {
                    name: "nvlink".into(),
                    size: 8,
                    bandwidth_bytes_per_s: 450e9,
                    latency_s: 0.0,
                    efficiency: 1.0,
                },
                Level {
                    name: "ib".into(),
                    size: 1 << 20,
                    bandwidth_bytes_per_s: 50e9,
                    latency_s: 0.0,
                    efficiency: 1.0,
                },
            ],
        }
    }

    #[test]
    fn ring_all_reduce_inside_a_node_moves_two_n_minus_one_over_n() {
        let f = two_level();
        let t = f.all_reduce_s(1e9, Group { size: 8, stride: 1 });
        assert!((t - 2.0 * 7.0 / 8.0 * 1e9 / 450e9).abs() < 1e-12);
    }

    #[test]
    fn hierarchical_all_reduce_sends_one_eighth_across_nodes() {
        let f = two_level();
        let t = f.all_reduce_s(
            8e9,
            Group {
                size: 64,
                stride: 1,
            },
        );
        let inner = 2.0 * 7.0 / 8.0 * 8e9 / 450e9;
        let outer = 2.0 * 7.0 / 8.0 * 1e9 / 50e9;
        assert!((t - inner - outer).abs() < 1e-9, "{t}");
        // a strided group (one member per node) uses the NIC for everything
        let t2 = f.all_reduce_s(8e9, Group { size: 8, stride: 8 });
        assert!((t2 - 2.0 * 7.0 / 8.0 * 8e9 / 50e9).abs() < 1e-9);
    }

    #[test]
    fn all_to_all_is_limited_by_the_nic() {
        let f = two_level();
        let t = f.all_to_all_s(
            64e6,
            Group {
                size: 64,
                stride: 1,
            },
        );
        assert!((t - 64e6 * 56.0 / 64.0 / 50e9).abs() < 1e-12);
    }
}
