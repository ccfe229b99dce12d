//! Administration: registering and managing clients and users. The CLI and the admin API both
//! call these, so validation is the same whichever way a change arrives.

pub mod clients;
pub mod users;
