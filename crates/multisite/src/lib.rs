//! Multi-site training: the site graph, cross-site strategies and their efficiency against the same
//! hardware in one site. (Being built; see the multi-site issue.)
