//! The trend reports over a generated history, checked against numbers this file computes on its
//! own from what it generated (not from the SEVs' derived durations, nor the report code).

use crate::common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sev::app::{FileRequest, SevService, TrendService};
use sev::clock::ManualClock;
use sev::domain::{Level, NewSev, Sev, SevId, Status, Tag, Timestamp};
use sev::queue::Relay;
use sev::reports::{self, Dimension, Month, MonthRange, Tallies, Verdict, Viewer};
use sev::store::SevRepo;

const TRACKS: [&str; 5] = ["payments", "search", "identity", "growth", "platform"];
const SYSTEMS: [&str; 6] = [
    "payments/ledger",
    "payments/api",
    "search/index",
    "identity",
    "queue",
    "db/primary",
];

/// What the generator chose for one SEV, kept beside it so expectations never read the SEV back.
#[derive(Clone)]
struct Truth {
    month: Month,
    level: Level,
    track: Option<&'static str>,
    system: Option<&'static str>,
    detect_min: i64,
    resolve_min: Option<i64>,
    /// Minutes from declaration until everyone paged had joined; none when nobody was paged.
    muster_min: Option<i64>,
    /// Minutes from declaration until a pager reported the first acknowledgement.
    ack_min: Option<i64>,
    private: bool,
    drill: bool,
}

fn generate(n: usize, seed: u64) -> (Vec<Sev>, Vec<Truth>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let base = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let mut sevs = Vec::with_capacity(n);
    let mut truth = Vec::with_capacity(n);
    for i in 0..n {
        // 24 months of history, anywhere in them.
        let started = base + Duration::minutes(rng.random_range(0..(730 * 24 * 60)));
        let level = Level::ALL[rng.random_range(0..4)];
        let track = rng.random_bool(0.85).then(|| TRACKS[rng.random_range(0..TRACKS.len())]);
        let system = rng
            .random_bool(0.7)
            .then(|| SYSTEMS[rng.random_range(0..SYSTEMS.len())]);
        let detect_min = rng.random_range(0..240);
        let resolve_min = rng.random_bool(0.9).then(|| detect_min + rng.random_range(1..3000));
        let muster_min = rng.random_bool(0.4).then(|| rng.random_range(1..90));
        let ack_min = rng.random_bool(0.5).then(|| rng.random_range(0..45));
        let private = rng.random_bool(0.05);
        let drill = rng.random_bool(0.03);
        let mut tags: std::collections::BTreeSet<Tag> = Default::default();
        if let Some(s) = system {
            tags.insert(format!("system/{s}").parse().unwrap());
        }
        tags.insert("root-cause/deploy".parse().unwrap());
        let detected = started + Duration::minutes(detect_min);
        sevs.push(Sev {
            id: SevId(i as u64 + 1),
            title: format!("generated {i}"),
            description: None,
            level,
            status: if resolve_min.is_some() {
                Status::Resolved
            } else {
                Status::Open
            },
            reporter: "gen".into(),
            coordinator: None,
            report_owner: None,
            comms_lead: None,
            deputies: Default::default(),
            product_track: track.map(str::to_owned),
            tags,
            private,
            drill,
            started_at: started,
            detected_at: detected,
            declared_at: detected,
            mitigated_at: None,
            resolved_at: resolve_min.map(|m| started + Duration::minutes(m)),
            closed_at: None,
            mustered_at: muster_min.map(|m| detected + Duration::minutes(m)),
            acknowledged_at: ack_min.map(|m| detected + Duration::minutes(m)),
            resolution: None,
        });
        truth.push(Truth {
            month: Month::of(started),
            level,
            track,
            system,
            detect_min,
            resolve_min,
            muster_min,
            ack_min,
            private,
            drill,
        });
    }
    (sevs, truth)
}

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => false,
    }
}

fn mean(v: &[i64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<i64>() as f64 / v.len() as f64)
}

fn median(v: &mut [i64]) -> Option<f64> {
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2] as f64),
        _ => Some((v[n / 2 - 1] + v[n / 2]) as f64 / 2.0),
    }
}

#[test]
fn monthly_numbers_over_ten_thousand_sevs_match_an_independent_count() {
    let (sevs, truth) = generate(12_000, 7);
    // A range reaching past both ends of the history: the empty months must be there as zeros.
    let range = MonthRange::new(m("2024-11"), m("2027-02")).unwrap();
    for viewer in [Viewer::ANONYMOUS, Viewer::OPERATOR] {
        let started = std::time::Instant::now();
        let rows = reports::monthly(&Tallies::of(&sevs), range, viewer);
        eprintln!("monthly over {} SEVs: {:?}", sevs.len(), started.elapsed());
        assert_eq!(rows.len(), 28);
        let mut all_total = 0;
        for row in &rows {
            let of_month: Vec<&Truth> = truth
                .iter()
                .filter(|t| t.month == row.month && (viewer.sees_private || !t.private))
                .collect();
            let real: Vec<&&Truth> = of_month.iter().filter(|t| !t.drill).collect();
            assert_eq!(row.total, real.len(), "{}", row.month);
            assert_eq!(row.drills, of_month.len() - real.len(), "{}", row.month);
            all_total += row.total;
            for level in Level::ALL {
                let n = real.iter().filter(|t| t.level == level).count();
                assert_eq!(row.by_level[&level], n, "{} {level}", row.month);
                let mut det: Vec<i64> = real.iter().filter(|t| t.level == level).map(|t| t.detect_min).collect();
                let times = &row.times_by_level[&level];
                assert!(close(times.detect.mean_minutes, mean(&det)), "{} {level}", row.month);
                assert!(close(times.detect.median_minutes, median(&mut det)));
            }
            let mut tracks: BTreeMap<String, usize> = BTreeMap::new();
            for t in &real {
                *tracks.entry(t.track.unwrap_or("unassigned").to_owned()).or_default() += 1;
            }
            assert_eq!(row.by_product_track, tracks, "{}", row.month);
            let mut det: Vec<i64> = real.iter().map(|t| t.detect_min).collect();
            let mut res: Vec<i64> = real.iter().filter_map(|t| t.resolve_min).collect();
            assert!(close(row.mttd_minutes, mean(&det)), "{}", row.month);
            assert!(close(row.mttr_minutes, mean(&res)), "{}", row.month);
            assert!(close(row.mttd_median_minutes, median(&mut det)));
            assert!(close(row.mttr_median_minutes, median(&mut res)));
            assert_eq!(row.resolved, res.len());
            let mut mus: Vec<i64> = real.iter().filter_map(|t| t.muster_min).collect();
            assert!(close(row.mttm_minutes, mean(&mus)), "{}", row.month);
            assert!(close(row.mttm_median_minutes, median(&mut mus)));
            assert_eq!(row.mustered, mus.len());
            let mut ack: Vec<i64> = real.iter().filter_map(|t| t.ack_min).collect();
            assert!(close(row.mtta_minutes, mean(&ack)), "{}", row.month);
            assert!(close(row.mtta_median_minutes, median(&mut ack)));
            assert_eq!(row.acknowledged, ack.len());
        }
        let expected_total = truth
            .iter()
            .filter(|t| !t.drill && (viewer.sees_private || !t.private))
            .count();
        assert_eq!(all_total, expected_total);
        assert!(rows[0].total == 0 && rows[27].total == 0 && rows[0].by_level.len() == 4);
    }
}

#[test]
fn which_product_track_had_the_most_sevs_in_july_and_which_systems_cause_the_most() {
    let (sevs, truth) = generate(10_000, 11);
    let tallies = Tallies::of(&sevs);
    let july = MonthRange::new(m("2025-07"), m("2025-07")).unwrap();
    let answer = reports::top(&tallies, Dimension::ProductTrack, july, Viewer::ANONYMOUS, 5);
    let mut tracks: HashMap<&str, usize> = HashMap::new();
    for t in truth
        .iter()
        .filter(|t| t.month == m("2025-07") && !t.private && !t.drill)
    {
        if let Some(tr) = t.track {
            *tracks.entry(tr).or_default() += 1;
        }
    }
    let best = tracks.values().max().copied().unwrap();
    let winners: Vec<&str> = tracks.iter().filter(|(_, n)| **n == best).map(|(k, _)| *k).collect();
    assert_eq!(answer.top[0].count, best);
    assert!(winners.contains(&answer.top[0].key.as_str()));
    assert!(answer.answer.contains(&answer.top[0].key), "{}", answer.answer);

    // Systems, over all time, every level of the hierarchy: `payments` gathers both of its children.
    let all = MonthRange::new(m("2025-01"), m("2026-12")).unwrap();
    let answer = reports::top(&tallies, Dimension::System, all, Viewer::ANONYMOUS, 100);
    let mut systems: HashMap<String, usize> = HashMap::new();
    for t in truth.iter().filter(|t| !t.private && !t.drill) {
        if let Some(s) = t.system {
            let mut path = String::new();
            for seg in s.split('/') {
                if !path.is_empty() {
                    path.push('/');
                }
                path.push_str(seg);
                *systems.entry(path.clone()).or_default() += 1;
            }
        }
    }
    let got: HashMap<String, usize> = answer.top.iter().map(|r| (r.key.clone(), r.count)).collect();
    assert_eq!(got, systems);
    assert_eq!(
        got["payments"],
        got["payments/ledger"] + got["payments/api"],
        "a SEV has one system here, so the parent is the sum of its children"
    );
    assert!(answer.top.windows(2).all(|w| w[0].count >= w[1].count));
}

#[test]
fn the_sev1_trend_over_three_months_matches_a_closed_form_fit() {
    let (sevs, truth) = generate(10_000, 3);
    let range = MonthRange::new(m("2025-08"), m("2025-10")).unwrap();
    let t = reports::trend(&Tallies::of(&sevs), Level::Sev1, range, Viewer::ANONYMOUS);
    let ys: Vec<f64> = range
        .iter()
        .map(|month| {
            truth
                .iter()
                .filter(|t| t.month == month && t.level == Level::Sev1 && !t.private && !t.drill)
                .count() as f64
        })
        .collect();
    assert_eq!(t.months.iter().map(|c| c.count as f64).collect::<Vec<_>>(), ys);
    let n = ys.len() as f64;
    let (sx, sy) = (3.0, ys.iter().sum::<f64>());
    let sxy: f64 = ys.iter().enumerate().map(|(x, y)| x as f64 * y).sum();
    let sxx = 5.0;
    let expected = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    assert!(close(t.slope_per_month, Some(expected)));
    let verdict_expected = if (ys[2] - ys[0]).abs() < f64::max(1.0, sy / n / 10.0) {
        Verdict::Flat
    } else if ys[2] < ys[0] {
        Verdict::Declining
    } else {
        Verdict::Rising
    };
    assert_eq!(t.verdict, verdict_expected, "{}", t.answer);
}

/// The same numbers through the service on the embedded store: SEVs filed and resolved through
/// `SevService` at chosen times, read back by month from the month index.
#[tokio::test]
async fn the_service_reads_the_month_index_and_reports_what_was_filed() {
    let backend = common::embedded();
    let repo = SevRepo::new(backend.store.clone());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let relay = Relay::new(repo.clone(), Arc::new(common::RecordingQueue::default()));
    let sevs = SevService::new(repo.clone(), relay, clock.clone());
    let reports = TrendService::new(repo, clock.clone(), sev::domain::ReportPolicy::default());
    let (_, truth) = generate(300, 5);
    let base: DateTime<Utc> = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let mut expected: BTreeMap<Month, (usize, Vec<i64>)> = BTreeMap::new();
    for (i, t) in truth.iter().enumerate() {
        // Spread over three months, in the generator's months' order of magnitude.
        let started = base + Duration::hours(7 * i as i64);
        let detected = started + Duration::minutes(t.detect_min);
        clock.set(detected);
        let (sev, _) = sevs
            .file(FileRequest {
                new: NewSev {
                    title: format!("t{i}"),
                    level: Some(t.level),
                    product_track: t.track.map(str::to_owned),
                    private: t.private,
                    drill: t.drill,
                    started_at: Some(Timestamp::new("started_at", started).unwrap()),
                    detected_at: Some(Timestamp::new("detected_at", detected).unwrap()),
                    ..NewSev::default()
                },
                reporter: "U1".into(),
                idempotency_key: None,
            })
            .await
            .unwrap();
        if let Some(r) = t.resolve_min {
            clock.set(started + Duration::minutes(r));
            sevs.set_status(sev.id, Status::Resolved, None, "U1".into())
                .await
                .unwrap();
        }
        if !t.private && !t.drill {
            let e = expected.entry(Month::of(started)).or_default();
            e.0 += 1;
            e.1.extend(t.resolve_min);
        }
    }
    let range = MonthRange::new(m("2024-12"), m("2025-04")).unwrap();
    let rows = reports.monthly(range, Viewer::ANONYMOUS).await.unwrap();
    assert_eq!(rows.len(), 5);
    for row in rows {
        let (n, res) = expected.get(&row.month).cloned().unwrap_or_default();
        assert_eq!(row.total, n, "{}", row.month);
        assert!(close(row.mttr_minutes, mean(&res)), "{}", row.month);
    }
}

/// Stored month tallies against a count from scratch: the generated history imported, then
/// random edits through `SevService` (level changes, retags, private toggles, moves to another
/// month, product tracks, resolutions and reopenings), then more imports and a repeated one.
/// Every stored tally must equal the one counted from the SEVs as they then are, and so must
/// every report for both kinds of viewer.
async fn tallies_match_a_full_count(backend: common::Backend, history: usize, edits: usize, rebuild: bool) {
    let repo = SevRepo::new(backend.store.clone());
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap()));
    let relay = Relay::new(repo.clone(), Arc::new(common::RecordingQueue::default()));
    let sevs = SevService::new(repo.clone(), relay, clock.clone());
    let trends = TrendService::new(repo.clone(), clock.clone(), sev::domain::ReportPolicy::default());
    let (generated, _) = generate(history + 100, 17);
    for (i, sev) in generated[..history].iter().enumerate() {
        repo.import(sev, &format!("gen-{i}"), &[]).await.unwrap();
    }
    let mut rng = StdRng::seed_from_u64(23);
    let mut applied = [0usize; 6];
    for _ in 0..edits {
        let id = SevId(rng.random_range(1..=history as u64));
        let current = repo.load(id).await.unwrap().sev;
        let kind = rng.random_range(0..6);
        let done = match kind {
            0 => sevs
                .change_level(id, Level::ALL[rng.random_range(0..4)], "U1".into())
                .await
                .is_ok(),
            1 => {
                let tags: Vec<Tag> = [SYSTEMS[rng.random_range(0..SYSTEMS.len())], "queue"]
                    .iter()
                    .take(rng.random_range(0..3))
                    .map(|s| format!("system/{s}").parse().unwrap())
                    .chain(rng.random_bool(0.5).then(|| "team/core".parse().unwrap()))
                    .collect();
                let patch = sev::domain::SevPatch {
                    tags: Some(tags),
                    ..Default::default()
                };
                sevs.patch(id, patch, "U1".into()).await.is_ok()
            }
            2 => {
                let patch = sev::domain::SevPatch {
                    private: Some(!current.private),
                    ..Default::default()
                };
                sevs.patch(id, patch, "U1".into()).await.is_ok()
            }
            3 => {
                // Earlier, so it still starts before it was detected: usually another month.
                let started = current.started_at - Duration::days(rng.random_range(1..90));
                let patch = sev::domain::SevPatch {
                    started_at: Some(Timestamp::new("started_at", started).unwrap()),
                    ..Default::default()
                };
                sevs.patch(id, patch, "U1".into()).await.is_ok()
            }
            4 => {
                let track = rng
                    .random_bool(0.7)
                    .then(|| TRACKS[rng.random_range(0..TRACKS.len())].to_owned());
                let patch = sev::domain::SevPatch {
                    product_track: Some(track),
                    ..Default::default()
                };
                sevs.patch(id, patch, "U1".into()).await.is_ok()
            }
            _ => {
                clock.advance(Duration::minutes(rng.random_range(1..600)));
                let to = if current.status.is_active() {
                    Status::Resolved
                } else {
                    Status::Open
                };
                sevs.set_status(id, to, None, "U1".into()).await.is_ok()
            }
        };
        applied[kind] += usize::from(done);
    }
    assert!(applied.iter().all(|n| *n > 0), "every kind of edit landed: {applied:?}");
    for (i, sev) in generated[history..].iter().enumerate() {
        repo.import(sev, &format!("late-{i}"), &[]).await.unwrap();
    }
    let (_, again) = repo.import(&generated[0], "gen-0", &[]).await.unwrap();
    assert!(!again, "an import repeated is not counted twice");

    let range = MonthRange::new(m("2024-06"), m("2027-05")).unwrap();
    let (from, until) = range.bounds();
    let all = repo.started_between(from, until).await.unwrap();
    assert_eq!(all.len(), history + 100);
    let counted = Tallies::of(&all);
    let stored = repo.tallies(range).await.unwrap();
    for ((a, x), (b, y)) in stored.months().zip(counted.months()) {
        assert_eq!((a, x), (b, y), "the tally of {a}");
    }
    assert_eq!(stored, counted);
    for viewer in [Viewer::ANONYMOUS, Viewer::OPERATOR] {
        assert_eq!(
            trends.monthly(range, viewer).await.unwrap(),
            reports::monthly(&counted, range, viewer)
        );
        for dimension in [
            Dimension::ProductTrack,
            Dimension::Tag,
            Dimension::System,
            Dimension::Team,
        ] {
            assert_eq!(
                trends.top(dimension, range, viewer, 100).await.unwrap(),
                reports::top(&counted, dimension, range, viewer, 100)
            );
        }
    }
    if rebuild {
        assert_eq!(repo.rebuild_tallies().await.unwrap().corrected, 0, "nothing drifted");
    }
}

#[tokio::test]
async fn embedded_tallies_match_a_full_count_over_ten_thousand_sevs_after_edits() {
    tallies_match_a_full_count(common::embedded(), 10_000, 1_500, true).await;
}

#[tokio::test]
async fn dynamodb_tallies_match_a_full_count_after_edits() {
    // Smaller, and without the rebuild (two requests for each month from 1970 to 2200, which
    // moto answers one at a time); the rebuild's code is the same on both backends.
    tallies_match_a_full_count(common::dynamodb().await, 200, 120, false).await;
}
