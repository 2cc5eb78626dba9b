#![allow(clippy::unwrap_used)]
#[path = "../tests/support/mod.rs"]
mod support;
use std::sync::Arc;
#[tokio::main]
async fn main() {
    let cmd = std::env::args().nth(1).unwrap();
    let config = gradphoto_server::config::Config::load(None).unwrap();
    if cmd == "demo" {
        let state = gradphoto_server::AppState::open(config, Arc::new(support::ScalingAnalyzer)).await.unwrap();
        let r = gradphoto_server::demo::seed(&state).await.unwrap();
        println!("{}", r.render());
    } else {
        let (_a, h) = gradphoto_server::serve(config, Arc::new(support::ScalingAnalyzer)).await.unwrap();
        h.wait().await.unwrap();
    }
}
