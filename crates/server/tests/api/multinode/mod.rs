//! Several nodes on one database: races, restarts, key rotation.

mod flow;
mod keys;
mod races_exactly_once;
mod rolling_restart;
