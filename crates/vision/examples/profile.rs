//! Stage timings of the pipeline (best of N runs), for finding where time goes:
//! `profile PHOTO [N]`. Criterion (`cargo bench`) gives the statistically careful figures.

use std::time::Instant;

use anyhow::Context;
use gradphoto_vision::decode::{decode_reduced, DecodeLimits};
use gradphoto_vision::inspect::working_reduction;
use gradphoto_vision::jpeg::{encode, encode_in_window};
use gradphoto_vision::measures::measure_all;
use gradphoto_vision::raster::{fit_within, warp_rgb};
use gradphoto_vision::segment::{composite, refine};
use gradphoto_vision::standardize::{plan, render};
use gradphoto_vision::{PhotoSpec, Thresholds, Vision};

fn best<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..n {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        out = Some(v);
    }
    (best, out.expect("n > 0"))
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().context("usage: profile PHOTO [N]")?;
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(5);
    let bytes = std::fs::read(&path)?;
    let (t, vision) = best(1, Vision::load);
    let vision = vision?;
    println!("load models        {t:8.1} ms");
    let spec = PhotoSpec::chsi();
    let th = Thresholds::default();
    let r = working_reduction(&bytes)?;
    let (t, d) = best(n, || decode_reduced(&bytes, DecodeLimits::default(), r));
    let d = d?;
    println!("decode 1/{r}         {t:8.1} ms  {:?}", d.rgb.dimensions());
    let (t, _) = best(n, || decode_reduced(&bytes, DecodeLimits::default(), 1));
    println!("decode full        {t:8.1} ms");
    let (t, _) = best(n, || image::load_from_memory(&bytes));
    println!("decode full (image){t:8.1} ms");
    let (t, thumb) = best(n, || fit_within(&d.rgb, 512));
    println!("thumbnail          {t:8.1} ms");
    let (t, dets) = best(n, || vision.detect(&thumb));
    let dets = dets?;
    println!("detection          {t:8.1} ms  {} faces", dets.len());
    let ins = vision.inspect(&bytes)?;
    let det = ins.faces.first().context("no face")?.clone();
    let (t, _) = best(n, || vision.face_mesh(&ins.decoded.rgb, &det));
    println!("landmarks          {t:8.1} ms");
    let (t, _) = best(n, || vision.segment(&thumb));
    println!("segmentation       {t:8.1} ms");
    let (t, _) = best(n, || vision.inspect(&bytes));
    println!("inspect (all above){t:8.1} ms");
    let (t, p) = best(n, || plan(&ins, &spec));
    let p = p.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!("plan               {t:8.1} ms");
    let (t, _) = best(n, || render(vision.segmenter_plan(), &ins, &p, &spec));
    println!("render+refine+jpeg {t:8.1} ms");
    let bg = [spec.background.r, spec.background.g, spec.background.b];
    let (t, img) = best(n, || {
        warp_rgb(&ins.decoded.rgb, 480, 640, &p.out_to_work, bg)
    });
    println!("  warp             {t:8.1} ms");
    let m = ins.mask.image_to_mask.then_after(&p.out_to_work);
    let (t, coarse) = best(n, || ins.mask.mask.warp(480, 640, &m));
    println!("  mask warp        {t:8.1} ms");
    let guide = gradphoto_vision::raster::luma_plane(&img);
    let (t, _) = best(n, || {
        gradphoto_vision::segment::guided_filter(&guide, &coarse, 6, 1e-3)
    });
    println!("  guided filter    {t:8.1} ms");
    let (t, _) = best(n, || coarse.box_mean(6));
    println!("  one box mean     {t:8.1} ms");
    let (t, matte) = best(n, || refine(&img, &coarse, None, None));
    println!("  refine           {t:8.1} ms");
    let (t, out) = best(n, || composite(&img, &matte, bg));
    println!("  composite        {t:8.1} ms");
    let (t, _) = best(n, || encode_in_window(&out, 60, 20 * 1024, 40 * 1024, 300));
    println!("  jpeg search      {t:8.1} ms");
    for q in [60u8, 70, 80, 85, 88, 90, 92, 95] {
        let (t, b) = best(n, || encode(&out, q, 300));
        println!(
            "  jpeg q{q:<3}        {t:8.1} ms  {} bytes",
            b.map(|b| b.len()).unwrap_or(0)
        );
    }
    let (t, _) = best(n, || measure_all(&ins, Some(&p), None, &spec, &th));
    println!("measures           {t:8.1} ms");
    let (t, _) = best(n, || vision.standardize(&bytes, &spec));
    println!("standardize e2e    {t:8.1} ms");
    let (t, _) = best(n, || vision.analyze(&bytes, &spec, &th, None, None));
    println!("analyze e2e        {t:8.1} ms");
    Ok(())
}
