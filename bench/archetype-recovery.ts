import { archetypeRecovery } from '../functions/domain/demo/archetype-recovery';

/*
 * The archetypes recovered from the planted population against what was planted: the adjusted
 * Rand index and each archetype's planted and recovered share (README "Behaviour analysis").
 * npx tsx bench/archetype-recovery.ts [users] [weeks] [seed]
 */
const [users = 2_000, weeks = 12, seed = 16] = process.argv.slice(2).map(Number);
const started = performance.now();
const recovery = archetypeRecovery({ seed, end: new Date('2026-11-30T00:00:00Z'), users, weeks });
const seconds = (performance.now() - started) / 1_000;
const round = (value: number) => Math.round(value * 1_000) / 1_000;
console.log(JSON.stringify({ users: recovery.users, weeks, seed, k: recovery.fit.k, silhouette: round(recovery.fit.silhouette), adjustedRandIndex: round(recovery.adjustedRandIndex), seconds: round(seconds) }));
for (const [name, share] of Object.entries(recovery.shares)) console.log(`${name.padEnd(13)} planted ${share.planted.toFixed(3)}  recovered ${share.recovered.toFixed(3)} (${share.name})`);
for (const archetype of recovery.fit.archetypes) console.log(`${archetype.name.padEnd(13)} users ${archetype.users}  confidence ${archetype.confidence.toFixed(2)}  ${JSON.stringify(Object.fromEntries((Object.entries(archetype.profile) as [string, number][]).map(([key, value]) => [key, round(value)])))}`);
