#!/usr/bin/env node
// Prints what a test run's TRX files say, for a CI log: the counts per file, then every failed test with its message
// and the first lines of its stack trace, and every inconclusive test's reason when --show-inconclusive is given.
//
//   node tools/ci/trx-summary.js [--min-passed N] [--show-inconclusive] FILE.trx...
//
// Exit codes: 0; 1 when a test failed, or fewer than N passed (so a filtered run cannot pass vacuously); 2 no files.
"use strict";
const fs = require("fs");

const decode = (s) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#x([0-9a-f]+);/gi,
    (_, h) => String.fromCodePoint(parseInt(h, 16))).replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(+d)).replace(/&amp;/g, "&");
const inner = (xml, tag) => {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? decode(m[1]).trim() : "";
};

const args = process.argv.slice(2);
let minPassed = 0;
let showInconclusive = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--min-passed") minPassed = Number(args[++i]);
  else if (args[i] === "--show-inconclusive") showInconclusive = true;
  else files.push(args[i]);
}
if (files.length === 0) {
  process.stderr.write("No TRX files given (did the test step run?).\n");
  process.exit(2);
}

const totals = {};
let failed = 0;
let passed = 0;
for (const file of files) {
  const xml = fs.readFileSync(file, "utf8");
  const counts = {};
  for (const m of xml.matchAll(/<UnitTestResult\b([^>]*?)(?:\/>|>([\s\S]*?)<\/UnitTestResult>)/g)) {
    const attrs = m[1];
    const name = decode(/testName="([^"]*)"/.exec(attrs)?.[1] ?? "?");
    const outcome = /outcome="([^"]*)"/.exec(attrs)?.[1] ?? "?";
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    totals[outcome] = (totals[outcome] ?? 0) + 1;
    const body = m[2] ?? "";
    if (outcome === "Failed" || outcome === "Error" || outcome === "Timeout" || outcome === "Aborted") {
      failed++;
      const stack = inner(body, "StackTrace").split(/\r?\n/).slice(0, 6).join("\n      ");
      process.stdout.write(`FAILED ${name}\n    ${inner(body, "Message").replace(/\n/g, "\n    ")}\n      ${stack}\n`);
    } else if (outcome === "Passed") {
      passed++;
    } else if (showInconclusive && (outcome === "Inconclusive" || outcome === "NotExecuted")) {
      process.stdout.write(`${outcome.toUpperCase()} ${name}: ${inner(body, "Message") || inner(body, "StdOut")}\n`);
    }
  }
  process.stdout.write(`${file}: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ") || "no results"}\n`);
}
process.stdout.write(`total: ${Object.entries(totals).map(([k, v]) => `${v} ${k}`).join(", ") || "no results"}\n`);
if (passed < minPassed) process.stdout.write(`expected at least ${minPassed} passed test(s), got ${passed}\n`);
process.exit(failed > 0 || passed < minPassed ? 1 : 0);
