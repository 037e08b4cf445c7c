//! Benchmarks and the load generator for oxio live here.
