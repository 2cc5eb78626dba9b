//! Shared helpers of the server's integration stories and of the review benchmark (which
//! includes this module with `#[path]`): a real server on a free loopback port over SQLite or
//! a throwaway PostgreSQL, fixtures, the student's steps, test images and the analyzer.
#![allow(dead_code)]

pub mod analyzer;
pub mod fixture;
pub mod flows;
/// The throwaway PostgreSQL harness shared with the other integration tests.
#[path = "../common/pg.rs"]
pub mod pg;
pub mod photos;
pub mod seed;
pub mod server;

pub use analyzer::analyzer;
pub use server::{Db, TestServer};
