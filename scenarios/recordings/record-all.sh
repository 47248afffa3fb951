#!/usr/bin/env bash
# Re-creates the shipped incident recordings: every shipped scenario, HPA against HiRL side by side, with one event
# injected live (as an SRE would in a training session). Run from the repository root after a retrain or a simulator
# change (`hirl-scale replay FILE --rerecord` re-runs one recording as it is, with the models loaded now).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
bin=target/release/hirl-scale
out=scenarios/recordings

# 14:00 on the reference Tuesday: an unannounced merchant surge.
$bin record scenarios/reference-day.ron --policies hpa,hirl --out $out/reference-day.rec.ron \
    --inject '50400=Spike(domain: "merchant", start_secs: 0, ramp_secs: 120, multiplier: 1.8, duration_secs: 1800)'
# Mid-sale, the shared pool loses 40 nodes (a zone outage).
$bin record scenarios/flash-sale-early.ron --policies hpa,hirl --out $out/flash-sale-early.rec.ron \
    --inject '6300=NodePoolLoss(pool: "shared-general", at_secs: 0, nodes: 40)'
# The cloud API slows down just before the fraud spike.
$bin record scenarios/fraud-cascade.ron --policies hpa,hirl --out $out/fraud-cascade.rec.ron \
    --inject '3500=ProvisionerSlowdown(start_secs: 0, duration_secs: 1800, factor: 3.0)'
# A fourth domain joins the stampede.
$bin record scenarios/provisioner-stampede.ron --policies hpa,hirl --out $out/provisioner-stampede.rec.ron \
    --inject '3700=Spike(domain: "fraud", start_secs: 0, ramp_secs: 60, multiplier: 1.5, duration_secs: 1200)'
# Merchant traffic surges while the batch job holds the shared pools.
$bin record scenarios/priority-inversion.ron --policies hpa,hirl --out $out/priority-inversion.rec.ron \
    --inject '4000=Spike(domain: "merchant", start_secs: 0, ramp_secs: 120, multiplier: 1.5, duration_secs: 1800)'
# An announced merchant flash sale that starts ten minutes early.
$bin record scenarios/small.ron --policies hpa,hirl --out $out/small.rec.ron \
    --inject '7200=FlashSale(domain: "merchant", announced_start_secs: Some(9000), start_secs: 8400, ramp_secs: 60, multiplier: 2.5, duration_secs: 1800)'
