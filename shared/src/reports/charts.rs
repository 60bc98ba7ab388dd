//! The trend charts as SVG, drawn by `plotters` (SVG backend only: no fonts, no bitmaps; the
//! browser lays out the text). Only months, levels and numbers reach a chart, never text people
//! wrote, so the SVG needs no escaping.

use plotters::prelude::*;

use super::MonthRow;
use crate::domain::Level;

const SIZE: (u32, u32) = (760, 320);
const LEVEL_COLOURS: [RGBColor; 4] = [
    RGBColor(178, 24, 43),
    RGBColor(239, 138, 98),
    RGBColor(67, 147, 195),
    RGBColor(120, 120, 120),
];

fn failed(e: impl std::fmt::Display) -> String {
    format!("drawing the chart failed: {e}")
}

/// One line per level of the SEVs started each month.
pub fn counts_by_level(rows: &[MonthRow]) -> Result<String, String> {
    let series: Vec<(&str, RGBColor, Vec<f64>)> = Level::ALL
        .iter()
        .zip(LEVEL_COLOURS)
        .map(|(level, colour)| {
            let ys = rows
                .iter()
                .map(|r| r.by_level.get(level).copied().unwrap_or(0) as f64)
                .collect();
            (level.as_str(), colour, ys)
        })
        .collect();
    lines("SEVs per month, by level", "SEVs", rows, &series)
}

/// Mean time to detect and to resolve per month, in hours; months without data are gaps at 0.
pub fn response_times(rows: &[MonthRow]) -> Result<String, String> {
    let hours = |v: Option<f64>| v.map_or(0.0, |m| m / 60.0);
    let series = vec![
        (
            "mean time to detect",
            RGBColor(67, 147, 195),
            rows.iter().map(|r| hours(r.mttd_minutes)).collect(),
        ),
        (
            "mean time to resolve",
            RGBColor(178, 24, 43),
            rows.iter().map(|r| hours(r.mttr_minutes)).collect(),
        ),
    ];
    lines("Response times per month", "hours", rows, &series)
}

fn lines(title: &str, unit: &str, rows: &[MonthRow], series: &[(&str, RGBColor, Vec<f64>)]) -> Result<String, String> {
    let top = series
        .iter()
        .flat_map(|(_, _, ys)| ys.iter().copied())
        .fold(1.0_f64, f64::max)
        * 1.1;
    let last_x = rows.len().saturating_sub(1).max(1);
    let label = |i: &usize| rows.get(*i).map(|r| r.month.to_string()).unwrap_or_default();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0..last_x, 0.0..top)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_labels(rows.len().clamp(2, 12))
            .x_label_formatter(&label)
            .y_desc(unit)
            .draw()
            .map_err(failed)?;
        for (name, colour, ys) in series {
            let colour = *colour;
            chart
                .draw_series(LineSeries::new(
                    ys.iter().enumerate().map(|(x, y)| (x, *y)),
                    colour.stroke_width(2),
                ))
                .map_err(failed)?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::testing::sev;
    use crate::reports::{MonthRange, Viewer, monthly};

    #[test]
    fn draws_one_line_per_level_with_the_months_on_the_axis() {
        let sevs = [
            sev(1, "2026-06-02T00:00:00Z", 5, Some(90), Level::Sev1),
            sev(2, "2026-07-02T00:00:00Z", 5, None, Level::Sev2),
        ];
        let range = MonthRange::new("2026-05".parse().unwrap(), "2026-07".parse().unwrap()).unwrap();
        let rows = monthly(&crate::reports::Tallies::of(&sevs), range, Viewer::ANONYMOUS);
        let svg = counts_by_level(&rows).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for label in ["SEV0", "SEV3", "2026-05", "2026-07", "SEVs per month, by level"] {
            assert!(svg.contains(label), "{label} missing");
        }
        assert!(svg.matches("<polyline").count() >= 4, "a line per level");
        let svg = response_times(&rows).unwrap();
        assert!(svg.contains("mean time to resolve"));
    }
}
