//! The site graph: sites joined by fiber links, latency from distance, capacity from the DWDM
//! build, and the cost of an all-reduce across the sites.
//!
//! Collective across sites: a bidirectional ring over the sites (two rings, one each way, each
//! carrying half the data, as NCCL runs several channels in both directions). Each ring hop is
//! routed over the shortest (lowest-latency) path of the graph; a directed link shared by several
//! hops splits its capacity between them. The ring is one more level of the step model's fabric
//! ([`Graph::ring_level`]: one member per site, both rings' bandwidth, the slowest hop's latency)
//! and its all-reduce costs what the step model's collectives cost on any level
//! (`perf::Fabric::all_reduce_s`: `2·(M−1)/M·S` over the level's bandwidth, bandwidth-optimal as
//! in Patarasuk & Yuan 2009 and `calibration/multisite.md` §5.1–5.2, plus `2⌈log₂ M⌉` one-way
//! latencies).

use serde::Serialize;

/// Propagation delay in standard single-mode fiber: 4.897 µs/km at 1550 nm (204,190 km/s,
/// mapyourtech "5-microsecond rule", S; SemiAnalysis uses 208,188 km/s, P), rounded to 4.9 µs/km
/// as the issue and `calibration/multisite.md` §0.1 state it.
pub const FIBER_DELAY_S_PER_M: f64 = 4.9e-9;

/// One-way delay of the equipment on a long-haul route (transponders, FEC, ROADMs, deep-buffer
/// switches) when a link does not give one: 0.5 ms, the middle of the 0.1–1 ms range of
/// `calibration/multisite.md` §7 (A).
pub const DEFAULT_EQUIPMENT_LATENCY_S: f64 = 0.5e-3;

/// Achieved fraction of a long-haul link's line rate for large collectives: 0.9, the scale-out
/// efficiency the step model uses for NCCL over 400G fabrics (Calculon's InfiniBand figure,
/// `calibration/perf.md` §1.3, S), applied to the WAN as an assumption (A): no public measurement
/// of NCCL bus bandwidth over a 1,000 km DWDM link was found (`calibration/multisite.md` §8).
pub const WAN_EFFICIENCY: f64 = 0.9;

/// One-way latency of a fiber route: propagation plus equipment.
pub fn one_way_latency_s(distance_m: f64, equipment_s: f64) -> f64 {
    distance_m.max(0.0) * FIBER_DELAY_S_PER_M + equipment_s.max(0.0)
}

/// A site as the multi-site model sees it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SiteNode {
    pub name: String,
    pub gpus: u64,
}

/// A fiber link between two sites (full duplex: `capacity_bits_per_s` each way).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Edge {
    pub a: usize,
    pub b: usize,
    pub distance_m: f64,
    pub capacity_bits_per_s: f64,
    /// One-way latency: propagation + equipment.
    pub latency_s: f64,
    pub cost_usd: Option<f64>,
}

/// Sites and links.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Graph {
    pub sites: Vec<SiteNode>,
    pub links: Vec<Edge>,
    /// Achieved fraction of link capacity.
    pub efficiency: f64,
}

/// How a cross-site ring sits on the graph.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Ring {
    /// Site indices in ring order.
    pub order: Vec<usize>,
    /// Bandwidth each ring hop gets, one direction, bytes/s (line rate × efficiency, shared).
    pub hop_bytes_per_s: f64,
    /// The slowest hop's one-way latency.
    pub hop_latency_s: f64,
    /// One-way latency once around the ring (the hops' paths added).
    pub loop_latency_s: f64,
}

/// Lowest-latency paths: `[from][to]` → the links on the way, each with its direction (true: a → b).
type Paths = Vec<Vec<Option<Vec<(usize, bool)>>>>;

/// Most sites for which every ring order is tried; beyond it a nearest-neighbour order is used.
const EXHAUSTIVE_SITES: usize = 8;

impl Graph {
    pub fn site_count(&self) -> usize {
        self.sites.len()
    }

    pub fn total_gpus(&self) -> u64 {
        self.sites.iter().map(|s| s.gpus).sum()
    }

    /// Lowest-latency paths between all pairs (Floyd–Warshall on a handful of sites): the link
    /// indices of the path from `i` to `j`, in order, with each link's direction (true: a → b).
    fn paths(&self) -> Paths {
        let n = self.sites.len();
        let mut d = vec![vec![f64::INFINITY; n]; n];
        let mut next: Vec<Vec<Option<(usize, usize, bool)>>> = vec![vec![None; n]; n];
        for (i, row) in d.iter_mut().enumerate() {
            row[i] = 0.0;
        }
        for (k, l) in self.links.iter().enumerate() {
            if l.a >= n || l.b >= n {
                continue;
            }
            // parallel links: the first, lowest-latency one routes (their capacity adds below)
            if l.latency_s < d[l.a][l.b] {
                d[l.a][l.b] = l.latency_s;
                d[l.b][l.a] = l.latency_s;
                next[l.a][l.b] = Some((l.b, k, true));
                next[l.b][l.a] = Some((l.a, k, false));
            }
        }
        for m in 0..n {
            for i in 0..n {
                for j in 0..n {
                    if d[i][m] + d[m][j] < d[i][j] {
                        d[i][j] = d[i][m] + d[m][j];
                        next[i][j] = next[i][m];
                    }
                }
            }
        }
        let mut out = vec![vec![None; n]; n];
        for i in 0..n {
            for j in 0..n {
                if i == j || !d[i][j].is_finite() {
                    continue;
                }
                let mut p = vec![];
                let mut at = i;
                let mut guard = 0;
                while at != j && guard <= n {
                    let Some((nx, k, dir)) = next[at][j] else {
                        break;
                    };
                    p.push((k, dir));
                    at = nx;
                    guard += 1;
                }
                if at == j {
                    out[i][j] = Some(p);
                }
            }
        }
        out
    }

    /// Capacity of a directed link in bytes/s, parallel links between the same two sites added.
    fn directed_capacity(&self, k: usize) -> f64 {
        let l = &self.links[k];
        self.links
            .iter()
            .filter(|o| (o.a == l.a && o.b == l.b) || (o.a == l.b && o.b == l.a))
            .map(|o| o.capacity_bits_per_s / 8.0)
            .sum()
    }

    /// Evaluate a ring order: (hop bandwidth bytes/s, slowest hop latency, loop latency).
    fn ring_cost(&self, order: &[usize], paths: &Paths) -> Option<(f64, f64, f64)> {
        let m = order.len();
        let mut load = vec![[0u32; 2]; self.links.len()];
        let mut hops: Vec<&Vec<(usize, bool)>> = vec![];
        for i in 0..m {
            let (a, b) = (order[i], order[(i + 1) % m]);
            for (x, y) in [(a, b), (b, a)] {
                let p = paths[x][y].as_ref()?;
                for &(k, dir) in p {
                    load[k][dir as usize] += 1;
                }
                hops.push(p);
            }
        }
        let mut bw = f64::INFINITY;
        let mut lat: f64 = 0.0;
        let mut around = 0.0;
        for (i, p) in hops.iter().enumerate() {
            let mut hl = 0.0;
            for &(k, dir) in p.iter() {
                let share = self.directed_capacity(k) / load[k][dir as usize].max(1) as f64;
                bw = bw.min(share);
                hl += self.links[k].latency_s;
            }
            lat = lat.max(hl);
            if i % 2 == 0 {
                around += hl; // forward hops only
            }
        }
        Some((bw * self.efficiency, lat, around))
    }

    /// The ring order with the most bandwidth per hop (then the least latency).
    pub fn ring(&self) -> Option<Ring> {
        let n = self.sites.len();
        if n < 2 {
            return None;
        }
        let paths = self.paths();
        let mut best: Option<Ring> = None;
        let mut consider = |order: &[usize]| {
            if let Some((bw, lat, around)) = self.ring_cost(order, &paths) {
                let better = match &best {
                    None => true,
                    Some(b) => {
                        bw > b.hop_bytes_per_s * (1.0 + 1e-12)
                            || (bw >= b.hop_bytes_per_s * (1.0 - 1e-12)
                                && around < b.loop_latency_s)
                    }
                };
                if better {
                    best = Some(Ring {
                        order: order.to_vec(),
                        hop_bytes_per_s: bw,
                        hop_latency_s: lat,
                        loop_latency_s: around,
                    });
                }
            }
        };
        if n <= EXHAUSTIVE_SITES {
            // site 0 first; every order of the rest (rings are rotation-invariant)
            let mut rest: Vec<usize> = (1..n).collect();
            permute(&mut rest, 0, &mut |p| {
                let mut o = vec![0];
                o.extend_from_slice(p);
                consider(&o);
            });
        } else {
            // nearest neighbour by path latency
            let mut o = vec![0];
            let mut left: Vec<usize> = (1..n).collect();
            while !left.is_empty() {
                let at = *o.last().unwrap_or(&0);
                let lat = |j: usize| {
                    paths[at][j]
                        .as_ref()
                        .map(|p| p.iter().map(|&(k, _)| self.links[k].latency_s).sum::<f64>())
                        .unwrap_or(f64::INFINITY)
                };
                let (pos, _) = left
                    .iter()
                    .enumerate()
                    .fold((0, f64::INFINITY), |acc, (i, &j)| {
                        let l = lat(j);
                        if l < acc.1 {
                            (i, l)
                        } else {
                            acc
                        }
                    });
                o.push(left.remove(pos));
            }
            consider(&o);
        }
        best
    }

    /// The cross-site ring as a level of the step model's fabric: one member per site (size
    /// M), the bandwidth of both rings each way (twice the hop's, already at the links'
    /// efficiency), and the slowest hop's one-way latency as the latency of a step across the
    /// level (A: a collective's steps go between sites, none faster than the slowest hop of the
    /// best ring can be assumed). `None` for one site or no ring.
    pub fn ring_level(&self) -> Option<perf::Level> {
        let m = self.sites.len();
        let r = self.ring()?;
        (m >= 2).then(|| perf::Level {
            name: format!("cross-site ({m} sites)"),
            size: m as u64,
            bandwidth_bytes_per_s: 2.0 * r.hop_bytes_per_s,
            latency_s: r.hop_latency_s,
            efficiency: 1.0,
        })
    }

    /// Time of an all-reduce across the sites of `bytes` per site (each site holds the whole
    /// buffer, already reduced inside it), and the bytes each site sends: the step model's
    /// all-reduce on [`Graph::ring_level`]. Zero for one site; infinite when no ring carries it.
    pub fn all_reduce(&self, bytes: f64) -> CrossSite {
        let m = self.sites.len();
        if m < 2 || bytes <= 0.0 {
            return CrossSite::default();
        }
        let sent = 2.0 * bytes * (m as f64 - 1.0) / m as f64;
        let group = perf::Group {
            size: m as u32,
            stride: 1,
        };
        let on = |l: perf::Level| perf::Fabric { levels: vec![l] }.all_reduce_s(bytes, group);
        match self.ring_level() {
            Some(l) if l.bandwidth_bytes_per_s > 0.0 => {
                let transfer = on(perf::Level {
                    latency_s: 0.0,
                    ..l.clone()
                });
                let latency = on(perf::Level {
                    bandwidth_bytes_per_s: f64::INFINITY,
                    ..l.clone()
                });
                CrossSite {
                    seconds: on(l),
                    transfer_s: transfer,
                    latency_s: latency,
                    bytes_sent_per_site: sent,
                }
            }
            _ => CrossSite {
                seconds: f64::INFINITY,
                transfer_s: f64::INFINITY,
                latency_s: 0.0,
                bytes_sent_per_site: sent,
            },
        }
    }

    /// The same graph with every link set to `capacity` (and `distance`, when given).
    pub fn with_links(&self, capacity_bits_per_s: Option<f64>, distance_m: Option<f64>) -> Graph {
        let mut g = self.clone();
        for l in &mut g.links {
            if let Some(c) = capacity_bits_per_s {
                l.capacity_bits_per_s = c;
            }
            if let Some(d) = distance_m {
                let equipment = (l.latency_s - l.distance_m * FIBER_DELAY_S_PER_M).max(0.0);
                l.distance_m = d;
                l.latency_s = one_way_latency_s(d, equipment);
            }
        }
        g
    }

    /// `m` equal sites of `gpus / m` GPUs (the remainder on the first) in a ring of links of one
    /// distance and capacity (a single link for two sites).
    pub fn uniform_ring(m: usize, gpus: u64, distance_m: f64, capacity_bits_per_s: f64) -> Graph {
        let m = m.max(1);
        let each = gpus / m as u64;
        let sites = (0..m)
            .map(|i| SiteNode {
                name: format!("site-{}", i + 1),
                gpus: if i == 0 {
                    gpus - each * (m as u64 - 1)
                } else {
                    each
                },
            })
            .collect();
        let pairs: Vec<(usize, usize)> = match m {
            1 => vec![],
            2 => vec![(0, 1)],
            _ => (0..m).map(|i| (i, (i + 1) % m)).collect(),
        };
        let links = pairs
            .into_iter()
            .map(|(a, b)| Edge {
                a,
                b,
                distance_m,
                capacity_bits_per_s,
                latency_s: one_way_latency_s(distance_m, DEFAULT_EQUIPMENT_LATENCY_S),
                cost_usd: None,
            })
            .collect();
        Graph {
            sites,
            links,
            efficiency: WAN_EFFICIENCY,
        }
    }

    /// A chain of pipeline boundaries in ring order: for each consecutive pair of the best ring
    /// order (without the closing hop), the bandwidth one direction gets (bytes/s) and the path
    /// latency. Used by the cross-site pipeline.
    pub fn chain(&self) -> Vec<(f64, f64)> {
        let n = self.sites.len();
        if n < 2 {
            return vec![];
        }
        let paths = self.paths();
        let order = self
            .ring()
            .map(|r| r.order)
            .unwrap_or_else(|| (0..n).collect());
        let mut load = vec![[0u32; 2]; self.links.len()];
        let mut hops = vec![];
        for w in order.windows(2) {
            let Some(p) = paths[w[0]][w[1]].as_ref() else {
                return vec![(0.0, f64::INFINITY)];
            };
            for &(k, dir) in p {
                load[k][dir as usize] += 1;
            }
            hops.push(p);
        }
        hops.iter()
            .map(|p| {
                let mut bw = f64::INFINITY;
                let mut lat = 0.0;
                for &(k, dir) in p.iter() {
                    bw = bw.min(self.directed_capacity(k) / load[k][dir as usize].max(1) as f64);
                    lat += self.links[k].latency_s;
                }
                (bw * self.efficiency, lat)
            })
            .collect()
    }
}

/// Cost of one cross-site collective.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct CrossSite {
    pub seconds: f64,
    pub transfer_s: f64,
    pub latency_s: f64,
    pub bytes_sent_per_site: f64,
}

fn permute(v: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize])) {
    if k + 1 >= v.len() {
        f(v);
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permute(v, k + 1, f);
        v.swap(k, i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_4_9_us_per_km_plus_equipment() {
        let l = one_way_latency_s(1_000e3, 0.0);
        assert!((l - 4.9e-3).abs() < 1e-12);
        assert!((one_way_latency_s(1_000e3, 0.5e-3) - 5.4e-3).abs() < 1e-12);
    }

    #[test]
    fn two_sites_send_the_whole_buffer_each_way() {
        let mut g = Graph::uniform_ring(2, 2, 1_000e3, 1e12);
        g.efficiency = 1.0;
        let c = g.all_reduce(810e9);
        assert!((c.bytes_sent_per_site - 810e9).abs() < 1.0);
        assert!((c.transfer_s - 6.48).abs() < 1e-9, "{c:?}");
    }

    #[test]
    fn a_ring_of_links_beats_a_chain() {
        let ring = Graph::uniform_ring(5, 5, 1e5, 1e12);
        let mut chain = ring.clone();
        chain.links.pop();
        let r = ring.all_reduce(1e12).transfer_s;
        let c = chain.all_reduce(1e12).transfer_s;
        assert!(r < c, "{r} {c}");
        // ring: each site has two links, 2·S·(M−1)/M over 2·C
        assert!((r - 2.0 * 1e12 * 0.8 / (2.0 * 1e12 / 8.0 * WAN_EFFICIENCY)).abs() < 1e-9);
        // the step model's latency term: 2⌈log₂ 5⌉ = 6 slowest hops of 0.49 + 0.5 ms
        let lat = ring.all_reduce(1e12).latency_s;
        assert!(
            (lat - 6.0 * (100e3 * FIBER_DELAY_S_PER_M + DEFAULT_EQUIPMENT_LATENCY_S)).abs() < 1e-12
        );
        // without a path the collective cannot run
        chain.links.pop();
        chain.links.pop();
        chain.links.pop();
        assert!(chain.all_reduce(1e12).seconds.is_infinite());
    }
}
