//! The four platforms' guides, as written.

mod monerium;
mod moneybutton;
mod tropipay;
