//! The photo analyzer the integration stories and the benchmark run the server with: the
//! production [`VisionAnalyzer`] with the default thresholds, so stories see the same checks,
//! face comparison and ID-card reading a school's server performs.

use std::sync::{Arc, OnceLock};

use gradphoto_domain::measures::Thresholds;
use gradphoto_server::analyzer::PhotoAnalyzer;
use gradphoto_server::vision::VisionAnalyzer;

/// One analyzer per test process: the models are loaded and optimized once and shared by
/// every server the process starts.
pub fn analyzer() -> Arc<dyn PhotoAnalyzer> {
    static SHARED: OnceLock<Arc<VisionAnalyzer>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let analyzer = VisionAnalyzer::new(Thresholds::default());
            // A model that fails to load should fail the setup, not surface later as a
            // failed analysis in some story's attempt.
            if let Err(e) = analyzer.warm() {
                panic!("photo analysis models do not load: {e}");
            }
            Arc::new(analyzer)
        })
        .clone()
}
