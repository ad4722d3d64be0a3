//! The bellhop application: configuration, wiring of store, engine, dispatcher and API, and
//! the demo, timeline and benchmark commands. `main.rs` only parses the command line.

pub mod alpinebits;
pub mod app;
pub mod autoreply;
pub mod bench;
pub mod bench_channels;
pub mod bench_sms;
pub mod config;
pub mod contacts;
pub mod demo;
pub mod diagnose;
pub mod http;
pub mod import;
pub mod presets;
pub mod smtp_listener;
pub mod timeline;
